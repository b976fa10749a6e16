import { parseArgs, USAGE, UsageError, type LoadOptions } from './args';
import { runAll } from './all';
import { runOne } from './one';

/** `npm run load -- …`: see ../README.md. */

async function main(): Promise<void> {
  let options: LoadOptions;
  try {
    options = parseArgs(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n\n${USAGE}`);
      process.exit(2);
    }
    throw error;
  }
  if (options.mode === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  if (options.mode === 'all') {
    await runAll(options);
    return;
  }
  await runOne(options, options.breakers);
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`load failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
