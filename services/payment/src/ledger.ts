import { createHash, randomUUID } from 'node:crypto';
import type { Journal } from '@checkout/service-kit';

/** A validated charge request. `amount` is in minor units (cents), a positive integer. */
export interface ChargeRequest {
  readonly orderId: string;
  readonly customerId: string;
  readonly amount: number;
  readonly currency: string;
  readonly paymentToken: string;
}

export type ChargeStatus = 'CAPTURED' | 'DECLINED';

/** One attempt recorded in the ledger. The payment token is never kept. */
export interface Charge {
  readonly chargeId: string;
  readonly orderId: string;
  readonly customerId: string;
  readonly amount: number;
  readonly currency: string;
  readonly status: ChargeStatus;
  /** Why a charge was declined (machine-readable), only on DECLINED. */
  readonly reason?: string;
  readonly createdAt: string;
}

/** What the card processor says about a request. */
export type Authorization = { readonly approved: true } | { readonly approved: false; readonly reason: string };

/** The card processor: the stub's simulation by default, a controllable one in tests. */
export type Authorizer = (request: ChargeRequest) => Authorization | Promise<Authorization>;

/** The token that is always declined (the handbook's contract); every other `tok_…` succeeds. */
export const DECLINED_TOKEN = 'tok_decline';

export const simulatedProcessor: Authorizer = (request) =>
  request.paymentToken === DECLINED_TOKEN ? { approved: false, reason: 'card_declined' } : { approved: true };

export type ChargeResult =
  /** The charge made for this key; `replayed` when an earlier request with the same key and body made it. */
  | { readonly kind: 'charged'; readonly charge: Charge; readonly replayed: boolean }
  /** The key was used with another body (`inFlight` when that request is still being processed). */
  | { readonly kind: 'key_reused'; readonly inFlight: boolean };

export interface ChargeLedgerOptions {
  authorize?: Authorizer;
  /** Time source of `createdAt` (default `Date.now`). */
  clock?: () => number;
  newId?: () => string;
  /**
   * Where settled charges are kept across restarts (a PSP's books survive its outages): read
   * back when the ledger is made, each new charge written before it is answered. None: memory
   * only, lost with the process.
   */
  journal?: Journal;
}

/** A settled charge as the journal keeps it (no token: only the request's fingerprint). */
interface Journaled {
  readonly fingerprint: string;
  readonly charge: Charge;
}

const CHARGE = 'charge:';

interface Entry {
  /** Hash of the request, so that the token is not kept in memory in the clear. */
  readonly fingerprint: string;
  readonly outcome: Promise<Charge>;
  settled: boolean;
}

function fingerprintOf(request: ChargeRequest): string {
  const fields = [request.orderId, request.customerId, request.amount, request.currency, request.paymentToken];
  return createHash('sha256').update(JSON.stringify(fields)).digest('base64url');
}

/**
 * The payment stub's ledger: charges by idempotency key, and every charge by order.
 *
 * Idempotency: the first request with a key is processed; a later (or concurrent)
 * request with the same key and the same body gets the same charge without a new
 * one being made — a concurrent one waits for the first to finish rather than
 * failing, so a client that retries after a timeout gets the real answer. The same
 * key with another body is refused. A declined charge is an answer like any other
 * and is replayed too. If processing throws (not a decline: a bug), the key is
 * forgotten so that the request can be retried.
 */
export class ChargeLedger {
  private readonly entries = new Map<string, Entry>();
  private readonly byOrder = new Map<string, Charge[]>();
  private readonly authorize: Authorizer;
  private readonly clock: () => number;
  private readonly newId: () => string;

  private readonly journal: Journal | undefined;

  constructor(options: ChargeLedgerOptions = {}) {
    this.authorize = options.authorize ?? simulatedProcessor;
    this.clock = options.clock ?? Date.now;
    this.newId = options.newId ?? (() => `ch_${randomUUID()}`);
    this.journal = options.journal;
    for (const [key, { fingerprint, charge }] of this.journal?.list<Journaled>(CHARGE) ?? []) {
      this.entries.set(key.slice(CHARGE.length), { fingerprint, outcome: Promise.resolve(charge), settled: true });
      this.record(charge);
    }
  }

  async charge(idempotencyKey: string, request: ChargeRequest): Promise<ChargeResult> {
    const fingerprint = fingerprintOf(request);
    const existing = this.entries.get(idempotencyKey);
    if (existing !== undefined) {
      if (existing.fingerprint !== fingerprint) return { kind: 'key_reused', inFlight: !existing.settled };
      return { kind: 'charged', charge: await existing.outcome, replayed: true };
    }

    // Registered before the first await: a concurrent request with this key finds it.
    const entry: Entry = { fingerprint, outcome: this.process(request), settled: false };
    this.entries.set(idempotencyKey, entry);
    try {
      const charge = await entry.outcome;
      entry.settled = true;
      // In the books before the answer leaves: a charge answered is a charge remembered.
      this.journal?.set(CHARGE + idempotencyKey, { fingerprint, charge } satisfies Journaled);
      return { kind: 'charged', charge, replayed: false };
    } catch (error) {
      if (this.entries.get(idempotencyKey) === entry) this.entries.delete(idempotencyKey);
      throw error;
    }
  }

  /** Every charge attempt for an order, oldest first (two CAPTURED ones are a double charge). */
  chargesFor(orderId: string): readonly Charge[] {
    return [...(this.byOrder.get(orderId) ?? [])];
  }

  /** Number of idempotency keys remembered. */
  get keys(): number {
    return this.entries.size;
  }

  private async process(request: ChargeRequest): Promise<Charge> {
    const authorization = await this.authorize(request);
    const createdAt = new Date(this.clock()).toISOString();
    const { orderId, customerId, amount, currency } = request;
    const charge: Charge = Object.freeze(
      authorization.approved
        ? { chargeId: this.newId(), orderId, customerId, amount, currency, status: 'CAPTURED', createdAt }
        : { chargeId: this.newId(), orderId, customerId, amount, currency, status: 'DECLINED', reason: authorization.reason, createdAt },
    );
    this.record(charge);
    return charge;
  }

  private record(charge: Charge): void {
    const list = this.byOrder.get(charge.orderId);
    if (list === undefined) this.byOrder.set(charge.orderId, [charge]);
    else list.push(charge);
  }
}
