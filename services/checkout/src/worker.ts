import { createLogger, loadConfigOrExit } from '@checkout/service-kit';
import { createWorker, type RunningWorker } from './app';
import { configSchema } from './config';

/**
 * Second entry point: the payment-retry worker (`npm run worker -w services/checkout`; run
 * several at once if wanted: the broker shares the queue, charges are idempotent by order id).
 * It waits for the broker before it consumes (and says so once it does).
 * SIGTERM/SIGINT: stop taking messages, let in-flight ones finish within SHUTDOWN_TIMEOUT_MS,
 * close, exit 0 — also while it is still waiting for the broker (nothing is in flight then).
 * A second signal exits at once.
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit(configSchema);
  const logger = createLogger({ service: 'checkout-worker', level: config.LOG_LEVEL });
  let running: RunningWorker | undefined;
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) process.exit(1);
    stopping = true;
    if (running === undefined) {
      logger.info('signal received before the broker answered: nothing in flight, exiting', { signal });
      process.exit(0);
    }
    logger.info('signal received: draining the worker', { signal });
    running.stop(config.SHUTDOWN_TIMEOUT_MS).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('worker shutdown failed', { error });
        process.exit(1);
      },
    );
  };
  // Installed first: a signal while the broker is still being waited for must not kill us uncleanly.
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  running = await createWorker(config, { logger });
  logger.info('payment-retry worker consuming', { queue: running.connection.names.workQueue });
}

main().catch((error: unknown) => {
  console.error('payment-retry worker failed to start', error);
  process.exit(1);
});
