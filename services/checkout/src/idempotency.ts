import { createHash } from 'node:crypto';
import NodeCache from 'node-cache';
import type { CheckoutAnswer } from './model';

export type IdempotencyOutcome =
  | { kind: 'new'; complete: (answer: Promise<CheckoutAnswer>) => void }
  | { kind: 'replay'; answer: Promise<CheckoutAnswer> }
  | { kind: 'mismatch' };

interface Entry {
  fingerprint: string;
  answer: Promise<CheckoutAnswer> | undefined;
}

/** Statuses after which a retry with the same key must be able to try again: nothing was done. */
const RETRYABLE = new Set([503]);

/**
 * `Idempotency-Key` of POST /checkout: the first request with a key runs; every later one with
 * the same key and the same body gets the first one's answer (and waits for it while it runs,
 * so two concurrent retries never reserve or charge twice); another body with the key is a 409.
 * A 503 (nothing reserved, nothing charged) is forgotten so that a retry can succeed later.
 *
 * Kept in this process's memory (node-cache, TTL `IDEMPOTENCY_TTL_SECONDS`): a restart forgets
 * the keys. The charge itself stays exactly-once across restarts (payment's ledger is keyed by
 * the order id), but a replay after a restart would start a new order.
 */
export class IdempotencyStore {
  private readonly cache: NodeCache;

  constructor(ttlSeconds: number) {
    // checkperiod 0: no interval timer; expired keys are dropped when read.
    this.cache = new NodeCache({ stdTTL: ttlSeconds, checkperiod: 0, useClones: false });
  }

  static fingerprint(body: unknown): string {
    return createHash('sha256').update(JSON.stringify(body)).digest('hex');
  }

  begin(key: string, body: unknown): IdempotencyOutcome {
    const fingerprint = IdempotencyStore.fingerprint(body);
    const existing = this.cache.get<Entry>(key);
    if (existing !== undefined) {
      if (existing.fingerprint !== fingerprint) return { kind: 'mismatch' };
      if (existing.answer !== undefined) return { kind: 'replay', answer: existing.answer };
    }
    const entry: Entry = { fingerprint, answer: undefined };
    this.cache.set(key, entry);
    return {
      kind: 'new',
      complete: (answer) => {
        entry.answer = answer;
        answer.then(
          (settled) => {
            if (RETRYABLE.has(settled.httpStatus) && this.cache.get<Entry>(key) === entry) this.cache.del(key);
          },
          () => {
            if (this.cache.get<Entry>(key) === entry) this.cache.del(key);
          },
        );
      },
    };
  }

  close(): void {
    this.cache.close();
  }
}
