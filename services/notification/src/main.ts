import { loadConfigOrExit, runService } from '@checkout/service-kit';
import { createNotificationApp } from './app';
import { configSchema } from './config';

// Bootstrap only: a bad config stops here with a message naming the variable;
// runService listens on PORT and drains on SIGTERM/SIGINT.
const config = loadConfigOrExit(configSchema);
void runService(createNotificationApp({ config }).service);
