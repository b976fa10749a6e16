import type { HttpClient } from '@checkout/service-kit';
import { z } from 'zod';
import { ContractError } from './inventory';
import { type ClientOptions, dependencyClient } from './policies';

const chargeSchema = z.object({
  chargeId: z.string(),
  orderId: z.string(),
  amount: z.number().int(),
  currency: z.string(),
  status: z.enum(['CAPTURED', 'DECLINED']),
  reason: z.string().optional(),
});
export type Charge = z.output<typeof chargeSchema>;

export interface ChargeRequest {
  orderId: string;
  customerId: string;
  amount: number;
  currency: string;
  paymentToken: string;
}

export type ChargeAnswer = { kind: 'captured'; charge: Charge } | { kind: 'declined'; charge: Charge; reason: string };

export class PaymentClient {
  readonly http: HttpClient;

  constructor(options: ClientOptions) {
    // No retry here: a failed charge goes to the retry queue, where the worker repeats it
    // with the same idempotency key. Retrying inline would hold the customer for two deadlines.
    this.http = dependencyClient('payment', options);
  }

  get breaker() {
    return this.http.breaker;
  }

  /** The order id is the idempotency key: every attempt for one order is the same charge. */
  async charge(request: ChargeRequest, signal?: AbortSignal): Promise<ChargeAnswer> {
    const res = await this.http.post('/charges', request, {
      headers: { 'Idempotency-Key': request.orderId },
      ...(signal ? { signal } : {}),
    });
    if (res.status === 201 || res.status === 200) return { kind: 'captured', charge: chargeSchema.parse(res.data) };
    if (res.status === 402) {
      const charge = chargeSchema.parse(res.data);
      return { kind: 'declined', charge, reason: charge.reason ?? 'declined' };
    }
    throw new ContractError('payment', 'POST /charges', res.status);
  }

  async chargesOf(orderId: string): Promise<Charge[]> {
    const res = await this.http.get('/charges', { params: { orderId } });
    if (res.status !== 200) throw new ContractError('payment', 'GET /charges', res.status);
    return z.object({ charges: z.array(chargeSchema) }).parse(res.data).charges;
  }

  close(): void {
    this.http.close();
  }
}
