import {
  createStubApp,
  type FieldError,
  fieldErrors,
  HttpError,
  idSchema,
  type Logger,
  type StubApp,
  type StubAppOptions,
  validate,
  ValidationError,
  visibleAscii,
} from '@checkout/service-kit';
import type { Request, Router } from 'express';
import { z } from 'zod';
import { type PaymentConfig, SERVICE_NAME } from './config';
import { type Charge, ChargeLedger, type ChargeRequest } from './ledger';

/** Largest charge: 1 000 000.00 in minor units. */
export const MAX_AMOUNT = 100_000_000;
export const MAX_IDEMPOTENCY_KEY_LENGTH = 200;

/** Ids from other services: visible ASCII, no spaces (they end up in logs and URLs). */
const id = idSchema;

const idempotencyKeySchema = z
  .string({ error: (issue) => (issue.input === undefined ? 'header is required' : 'must be a single header') })
  .pipe(visibleAscii(MAX_IDEMPOTENCY_KEY_LENGTH));

/**
 * `POST /charges` body. Unknown fields are refused (a misspelt `curency` must not
 * silently become EUR). `amount` is an integer number of minor units (cents):
 * 12.34 EUR is `1234`; decimals are refused rather than rounded.
 */
export const chargeBodySchema = z
  .object({
    orderId: id,
    customerId: id,
    amount: z.number().int('must be an integer number of cents').positive().max(MAX_AMOUNT),
    currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code in capitals, e.g. EUR').default('EUR'),
    paymentToken: z.string().max(200).regex(/^tok_[\x21-\x7e]+$/, 'must be a token starting with "tok_"'),
  })
  .strict();

const chargesQuerySchema = z.object({ orderId: id });

/** Reads the idempotency key and the body together, so that one 400 names every problem. */
function parseChargeRequest(req: Request): { key: string; body: ChargeRequest } {
  const key = idempotencyKeySchema.safeParse(req.get('Idempotency-Key'));
  const body = chargeBodySchema.safeParse(req.body);
  if (key.success && body.success) return { key: key.data, body: body.data };
  const fields: FieldError[] = [];
  if (!key.success) fields.push(...fieldErrors(key.error).map((field) => ({ ...field, path: 'Idempotency-Key' })));
  if (!body.success) fields.push(...fieldErrors(body.error));
  throw new ValidationError(fields, 'Invalid charge request');
}

/** The answer to a charge: 201 with the charge, or 402 for a decline (a business answer, not an error). */
function answerOf(charge: Charge): { status: number; body: object } {
  if (charge.status === 'CAPTURED') return { status: 201, body: charge };
  return {
    status: 402,
    body: { error: 'PAYMENT_DECLINED', message: 'The payment was declined', ...charge },
  };
}

function paymentRoutes(router: Router, ledger: ChargeLedger, logger: Logger): void {
  router.post('/charges', async (req, res) => {
    const { key, body } = parseChargeRequest(req);
    const result = await ledger.charge(key, body);
    if (result.kind === 'key_reused') {
      throw new HttpError(
        409,
        'IDEMPOTENCY_KEY_REUSED',
        result.inFlight
          ? 'This Idempotency-Key is being used right now by a request with a different body'
          : 'This Idempotency-Key was already used with a different body',
      );
    }
    const { charge, replayed } = result;
    const log = { orderId: charge.orderId, chargeId: charge.chargeId, amount: charge.amount, currency: charge.currency };
    if (replayed) {
      res.set('Idempotent-Replayed', 'true');
      logger.info('charge replayed', { ...log, status: charge.status });
    } else if (charge.status === 'CAPTURED') {
      logger.info('charge captured', log);
    } else {
      logger.info('charge declined', { ...log, reason: charge.reason });
    }
    const answer = answerOf(charge);
    res.status(answer.status).json(answer.body);
  });

  router.get('/charges', (req, res) => {
    const { orderId } = validate(chargesQuerySchema, req.query, 'query');
    res.json({ orderId, charges: ledger.chargesFor(orderId) });
  });
}

export type PaymentAppOptions = StubAppOptions<PaymentConfig, 'ledger', ChargeLedger>;
export type PaymentApp = StubApp<PaymentConfig, 'ledger', ChargeLedger>;

/** The payment stub: the kit's stub app around its ledger (default: a new in-memory ledger on `clock`) and routes. */
export function createPaymentApp(options: PaymentAppOptions): PaymentApp {
  return createStubApp(SERVICE_NAME, 'ledger', options, (clock) => new ChargeLedger({ clock }), paymentRoutes);
}
