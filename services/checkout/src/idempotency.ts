import { createHash } from 'node:crypto';
import type { Journal } from '@checkout/service-kit';
import type { CheckoutAnswer, CheckoutRequest } from './model';

export type IdempotencyOutcome =
  | { kind: 'new'; orderId: string; complete: (answer: Promise<CheckoutAnswer>) => void }
  | { kind: 'replay'; answer: Promise<CheckoutAnswer> }
  | { kind: 'mismatch' };

interface Entry {
  fingerprint: string;
  orderId: string;
  /** Epoch ms of the first request with the key; the key expires `ttl` after it. */
  at: number;
  answer: Promise<CheckoutAnswer> | undefined;
}

/** How a key is kept in the journal: the request until it is answered, then the answer. */
interface Journaled {
  fingerprint: string;
  orderId: string;
  at: number;
  request?: CheckoutRequest;
  answer?: CheckoutAnswer;
}

const PREFIX = 'key:';

/** Statuses after which a retry with the same key must be able to try again: nothing was done. */
const RETRYABLE = new Set([503]);

/**
 * `Idempotency-Key` of POST /checkout: the first request with a key runs; every later one with
 * the same key and the same body gets the first one's answer (and waits for it while it runs,
 * so two concurrent retries never reserve or charge twice); another body with the key is a 409.
 * A 503 (nothing reserved, nothing charged) is forgotten so that a retry can succeed later.
 *
 * Kept in the journal (journal.ts), so a restart forgets nothing: the key and its request are
 * written before the order starts, its answer when it is given. A key whose request was cut by
 * a crash (no answer written) is finished or undone by `restore`'s `recover`, and replays of it
 * get that outcome. Keys expire `ttlSeconds` after their first request.
 */
export class IdempotencyStore {
  /** In the order keys were first used, so the oldest expire first. */
  private readonly entries = new Map<string, Entry>();
  private readonly ttlMs: number;

  constructor(
    ttlSeconds: number,
    private readonly journal?: Journal,
    private readonly clock: () => number = Date.now,
  ) {
    this.ttlMs = ttlSeconds * 1_000;
  }

  static fingerprint(body: unknown): string {
    return createHash('sha256').update(JSON.stringify(body)).digest('hex');
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Loads the journaled keys: answered ones replay their answer; one whose request was cut
   * short gets `recover(orderId, request)` as its answer. Returns how many were recovered.
   */
  restore(recover: (orderId: string, request: CheckoutRequest) => Promise<CheckoutAnswer>): number {
    if (!this.journal) return 0;
    let recovered = 0;
    for (const [journalKey, saved] of [...this.journal.list<Journaled>(PREFIX)]) {
      const key = journalKey.slice(PREFIX.length);
      if (saved.at + this.ttlMs <= this.clock()) {
        this.journal.delete(journalKey);
        continue;
      }
      const entry: Entry = { fingerprint: saved.fingerprint, orderId: saved.orderId, at: saved.at, answer: undefined };
      this.entries.set(key, entry);
      if (saved.answer !== undefined) {
        entry.answer = Promise.resolve(saved.answer);
      } else if (saved.request !== undefined) {
        recovered += 1;
        this.settle(key, entry, recover(saved.orderId, saved.request));
      } else {
        this.forget(key, entry);
      }
    }
    return recovered;
  }

  /** The first request with `key` gets `newOrderId()` as its order id. */
  begin(key: string, request: CheckoutRequest, newOrderId: () => string): IdempotencyOutcome {
    this.expire();
    const fingerprint = IdempotencyStore.fingerprint(request);
    const existing = this.entries.get(key);
    if (existing !== undefined) {
      if (existing.fingerprint !== fingerprint) return { kind: 'mismatch' };
      if (existing.answer !== undefined) return { kind: 'replay', answer: existing.answer };
    }
    const entry: Entry = { fingerprint, orderId: newOrderId(), at: this.clock(), answer: undefined };
    this.entries.set(key, entry);
    this.journal?.set(PREFIX + key, { fingerprint, orderId: entry.orderId, at: entry.at, request } satisfies Journaled);
    return { kind: 'new', orderId: entry.orderId, complete: (answer) => this.settle(key, entry, answer) };
  }

  close(): void {
    this.entries.clear();
  }

  private settle(key: string, entry: Entry, answer: Promise<CheckoutAnswer>): void {
    entry.answer = answer;
    answer.then(
      (settled) => {
        if (this.entries.get(key) !== entry) return;
        if (RETRYABLE.has(settled.httpStatus)) this.forget(key, entry);
        else this.journal?.set(PREFIX + key, { fingerprint: entry.fingerprint, orderId: entry.orderId, at: entry.at, answer: settled } satisfies Journaled);
      },
      () => {
        // Cut short (a bug, or shutdown during a recovery): the journal keeps the request, and
        // the next start settles the order. This process lets a retry with the key run again.
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
  }

  private forget(key: string, entry: Entry): void {
    if (this.entries.get(key) !== entry) return;
    this.entries.delete(key);
    this.journal?.delete(PREFIX + key);
  }

  /** Drops expired keys, oldest first: O(1) per call on average. */
  private expire(): void {
    const now = this.clock();
    for (const [key, entry] of this.entries) {
      if (entry.at + this.ttlMs > now) return;
      this.forget(key, entry);
    }
  }
}
