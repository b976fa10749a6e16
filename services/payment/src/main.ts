import { join } from 'node:path';
import { Journal, loadConfigOrExit, runService } from '@checkout/service-kit';
import { createPaymentApp } from './app';
import { configSchema } from './config';
import { ChargeLedger } from './ledger';

// Bootstrap only: a bad config stops here with a message naming the variable;
// runService listens on PORT and drains on SIGTERM/SIGINT.
const config = loadConfigOrExit(configSchema);
const journal = config.DATA_DIR === undefined ? undefined : Journal.open(join(config.DATA_DIR, 'payment.journal'));
const { service } = createPaymentApp({ config, ledger: new ChargeLedger(journal ? { journal } : {}) });
if (journal) service.onClose('ledger-journal', () => journal.close());
void runService(service);
