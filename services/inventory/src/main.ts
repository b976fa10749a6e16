import { loadConfigOrExit, runService } from '@checkout/service-kit';
import { createInventoryApp } from './app';
import { configSchema } from './config';

// Bootstrap only: a bad config stops here with a message naming the variable;
// runService listens on PORT and drains on SIGTERM/SIGINT.
const config = loadConfigOrExit(configSchema);
void runService(createInventoryApp({ config }).service);
