import { loadConfigOrExit, runService } from '@checkout/service-kit';
import { createCheckout } from './app';
import { configSchema } from './config';

// Bootstrap only: a bad config stops here naming the variable; runService listens on PORT,
// and SIGTERM/SIGINT drain (readiness 503, in-flight orders and confirms finish) and exit 0.
async function main(): Promise<void> {
  const config = loadConfigOrExit(configSchema);
  const { service } = await createCheckout(config);
  await runService(service);
}

main().catch((error: unknown) => {
  console.error('checkout failed to start', error);
  process.exit(1);
});
