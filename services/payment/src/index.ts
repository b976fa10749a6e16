export { chargeBodySchema, createPaymentApp, MAX_AMOUNT, MAX_IDEMPOTENCY_KEY_LENGTH } from './app';
export type { PaymentApp, PaymentAppOptions } from './app';
export { configSchema, SERVICE_NAME } from './config';
export type { PaymentConfig } from './config';
export { ChargeLedger, DECLINED_TOKEN, simulatedProcessor } from './ledger';
export type { Authorization, Authorizer, Charge, ChargeLedgerOptions, ChargeRequest, ChargeResult, ChargeStatus } from './ledger';
