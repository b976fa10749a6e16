import { loadConfigOrExit, runService } from '@checkout/service-kit';
import { createPaymentApp } from './app';
import { configSchema } from './config';

// Bootstrap only: a bad config stops here with a message naming the variable;
// runService listens on PORT and drains on SIGTERM/SIGINT.
const config = loadConfigOrExit(configSchema);
void runService(createPaymentApp({ config }).service);
