import { createLogger, loadConfigOrExit } from '@checkout/service-kit';
import { createWorker } from './app';
import { configSchema } from './config';

/**
 * Second entry point: the payment-retry worker (`npm run worker -w services/checkout`; run
 * several at once if wanted: the broker shares the queue, charges are idempotent by order id).
 * SIGTERM/SIGINT: stop taking messages, let in-flight ones finish, close.
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit(configSchema);
  const logger = createLogger({ service: 'checkout-worker', level: config.LOG_LEVEL });
  const { connection, stop: close } = await createWorker(config, { logger });
  logger.info('payment-retry worker consuming', { queue: connection.names.workQueue });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info('signal received: draining the worker', { signal });
    void (async () => {
      await close();
      process.exit(0);
    })().catch((error: unknown) => {
      logger.error('worker shutdown failed', { error });
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error('payment-retry worker failed to start', error);
  process.exit(1);
});
