/**
 * The invariant check at the end of a run, from the stubs' ledgers. Pure: tested on synthetic
 * ledgers.
 *
 * Every accepted order (201/202) is paid exactly once, or failed with its stock released;
 * every refused order (4xx/5xx) charged nothing and holds no stock; no order is charged twice.
 */

export interface OrderLedger {
  /** payment: `GET /charges?orderId=` → charges[].status (CAPTURED, DECLINED), createdAt (ISO). */
  readonly charges: readonly { readonly status: string; readonly createdAt?: string }[];
  /** inventory: `GET /reservations?orderId=` → reservations[].status (HELD, RELEASED). */
  readonly reservations: readonly { readonly status: string }[];
}

export interface CheckedOrder {
  readonly orderId: string;
  /** HTTP status of checkout's answer. */
  readonly status: number;
  /** When the answer came, ms from the start of the run. */
  readonly answeredAtMs: number;
  readonly chargeId: string | null;
}

export const OK_OUTCOMES = ['paid', 'paid-ledger-lost', 'failed-released', 'declined-released', 'refused-clean'] as const;
export const BAD_OUTCOMES = ['double-charge', 'paid-stock-released', 'pending', 'lost', 'charged-but-refused', 'stock-leaked', 'declined-not-released'] as const;
export type Outcome = (typeof OK_OUTCOMES)[number] | (typeof BAD_OUTCOMES)[number];

export interface InvariantOptions {
  /**
   * The payment process was killed at this time (ms from the start): its in-memory ledger is
   * gone, so a 201 answered before it is paid by the answer's chargeId, not by the ledger.
   */
  readonly paymentLedgerLostBeforeMs?: number;
}

export function classify(order: CheckedOrder, ledger: OrderLedger, options: InvariantOptions = {}): Outcome {
  const captured = ledger.charges.filter((charge) => charge.status === 'CAPTURED').length;
  const last = ledger.reservations[ledger.reservations.length - 1]?.status ?? 'NONE';
  if (captured > 1) return 'double-charge';
  if (order.status === 201 || order.status === 202) {
    if (captured === 1) return last === 'RELEASED' ? 'paid-stock-released' : 'paid';
    if (last === 'RELEASED') return 'failed-released';
    if (order.status === 201 && order.chargeId !== null && options.paymentLedgerLostBeforeMs !== undefined && order.answeredAtMs < options.paymentLedgerLostBeforeMs) {
      return 'paid-ledger-lost';
    }
    return last === 'HELD' ? 'pending' : 'lost';
  }
  if (order.status === 402) return captured === 0 && last !== 'HELD' ? 'declined-released' : captured > 0 ? 'charged-but-refused' : 'declined-not-released';
  if (captured > 0) return 'charged-but-refused';
  if (last === 'HELD') return 'stock-leaked';
  return 'refused-clean';
}

export interface InvariantReport {
  readonly checked: number;
  /** Sent orders without an answer (their order id is unknown): not checked. */
  readonly unverified: number;
  readonly outcomes: Readonly<Partial<Record<Outcome, number>>>;
  readonly violations: number;
  readonly duplicateCharges: number;
  /** Up to 5 orders per bad outcome, to look at: "<orderId> <status> at <answeredAtMs> ms". */
  readonly examples: Readonly<Partial<Record<Outcome, string[]>>>;
  readonly ok: boolean;
}

export function checkInvariants(
  orders: readonly CheckedOrder[],
  ledgers: ReadonlyMap<string, OrderLedger>,
  unverified: number,
  options: InvariantOptions = {},
): InvariantReport {
  const outcomes: Partial<Record<Outcome, number>> = {};
  const examples: Partial<Record<Outcome, string[]>> = {};
  let violations = 0;
  let duplicateCharges = 0;
  for (const order of orders) {
    const ledger = ledgers.get(order.orderId) ?? { charges: [], reservations: [] };
    const outcome = classify(order, ledger, options);
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    if ((BAD_OUTCOMES as readonly string[]).includes(outcome)) {
      violations += 1;
      const list = (examples[outcome] ??= []);
      if (list.length < 5) list.push(`${order.orderId} ${order.status} at ${Math.round(order.answeredAtMs)} ms`);
    }
    if (outcome === 'double-charge') duplicateCharges += ledger.charges.filter((charge) => charge.status === 'CAPTURED').length - 1;
  }
  return { checked: orders.length, unverified, outcomes, violations, duplicateCharges, examples, ok: violations === 0 };
}

/**
 * How fast the worker charged the queued orders: the CAPTURED charges of the orders answered
 * 202, by their ledger time. `rate` = charges ÷ (last − first); null for fewer than 2.
 */
export function workerChargeRate(orders: readonly CheckedOrder[], ledgers: ReadonlyMap<string, OrderLedger>): { charged: number; firstAt: string | null; lastAt: string | null; spanMs: number | null; rate: number | null } {
  const times: number[] = [];
  for (const order of orders) {
    if (order.status !== 202) continue;
    for (const charge of ledgers.get(order.orderId)?.charges ?? []) {
      if (charge.status !== 'CAPTURED' || charge.createdAt === undefined) continue;
      const t = Date.parse(charge.createdAt);
      if (!Number.isNaN(t)) times.push(t);
    }
  }
  if (times.length === 0) return { charged: 0, firstAt: null, lastAt: null, spanMs: null, rate: null };
  times.sort((a, b) => a - b);
  const first = times[0]!;
  const last = times[times.length - 1]!;
  const spanMs = last - first;
  return { charged: times.length, firstAt: new Date(first).toISOString(), lastAt: new Date(last).toISOString(), spanMs, rate: times.length < 2 || spanMs === 0 ? null : times.length / (spanMs / 1000) };
}
