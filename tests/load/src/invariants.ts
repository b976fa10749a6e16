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
  /** shipping: `GET /shipments?orderId=` (read only when payment was killed; shipping is scheduled only after a capture). */
  readonly shipments?: readonly { readonly shipmentId?: string; readonly createdAt?: string }[];
}

export interface CheckedOrder {
  readonly orderId: string;
  /** HTTP status of checkout's answer. */
  readonly status: number;
  /** When the answer came, ms from the start of the run. */
  readonly answeredAtMs: number;
  /** When it was sent, ms from the start of the run (default: unknown, taken as 0). */
  readonly sentAtMs?: number;
  readonly chargeId: string | null;
}

export const OK_OUTCOMES = ['paid', 'paid-ledger-lost', 'failed-released', 'declined-released', 'refused-clean'] as const;
export const BAD_OUTCOMES = ['double-charge', 'paid-stock-released', 'pending', 'lost', 'charged-but-refused', 'stock-leaked', 'declined-not-released'] as const;
export type Outcome = (typeof OK_OUTCOMES)[number] | (typeof BAD_OUTCOMES)[number];

export interface InvariantOptions {
  /**
   * The payment process was killed at this time (ms from the start, when the kill was done): its
   * in-memory ledger is gone with every capture made before it. An accepted order with no
   * capture in the new ledger then counts as paid (`paid-ledger-lost`) only on evidence that a
   * capture happened in the killed process: a 201 carrying a chargeId answered before the kill,
   * or — for an order sent before the kill — a shipment, which checkout and the worker schedule
   * only after a capture (a 201 answered just after the kill, its capture made just before).
   * Without such evidence it stays `pending`/`lost`: a real loss is never excused by the kill.
   */
  readonly paymentLedgerLostBeforeMs?: number;
}

/** Why an order counts as `paid-ledger-lost`, for the per-order detail; null when it does not. */
export function ledgerLostEvidence(order: CheckedOrder, ledger: OrderLedger, options: InvariantOptions): string | null {
  const killedAt = options.paymentLedgerLostBeforeMs;
  if (killedAt === undefined) return null;
  if (order.status === 201 && order.chargeId !== null && order.answeredAtMs < killedAt) return 'answered 201 with a chargeId before the kill';
  const shipment = ledger.shipments?.[0];
  if ((order.status === 201 || order.status === 202) && shipment !== undefined && (order.sentAtMs ?? 0) < killedAt) {
    return `sent before the kill, shipment ${shipment.shipmentId ?? '?'} exists${shipment.createdAt ? ` (created ${shipment.createdAt})` : ''}`;
  }
  return null;
}

export function classify(order: CheckedOrder, ledger: OrderLedger, options: InvariantOptions = {}): Outcome {
  const captured = ledger.charges.filter((charge) => charge.status === 'CAPTURED').length;
  const last = ledger.reservations[ledger.reservations.length - 1]?.status ?? 'NONE';
  if (captured > 1) return 'double-charge';
  if (order.status === 201 || order.status === 202) {
    if (captured === 1) return last === 'RELEASED' ? 'paid-stock-released' : 'paid';
    if (last === 'RELEASED') return 'failed-released';
    if (ledgerLostEvidence(order, ledger, options) !== null) return 'paid-ledger-lost';
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
  /** Up to 5 orders per bad outcome (and per `paid-ledger-lost`, with its evidence), to look at: "<orderId> <status> sent at … answered at … ms". */
  readonly examples: Readonly<Partial<Record<Outcome, string[]>>>;
  /** `paid-ledger-lost` by evidence: a 201 with a chargeId answered before the kill, or a shipment (those are listed in `examples`). */
  readonly ledgerLost: { readonly answeredBeforeKill: number; readonly shipment: number };
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
  const ledgerLost = { answeredBeforeKill: 0, shipment: 0 };
  for (const order of orders) {
    const ledger = ledgers.get(order.orderId) ?? { charges: [], reservations: [] };
    const outcome = classify(order, ledger, options);
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    const bad = (BAD_OUTCOMES as readonly string[]).includes(outcome);
    if (bad) violations += 1;
    const byShipment = outcome === 'paid-ledger-lost' && ledgerLostEvidence(order, ledger, options)?.includes('shipment') === true;
    if (outcome === 'paid-ledger-lost') {
      if (byShipment) ledgerLost.shipment += 1;
      else ledgerLost.answeredBeforeKill += 1;
    }
    if (bad || byShipment) {
      const list = (examples[outcome] ??= []);
      const sent = order.sentAtMs === undefined ? '' : `sent at ${Math.round(order.sentAtMs)} ms, `;
      const evidence = outcome === 'paid-ledger-lost' ? ` — ${ledgerLostEvidence(order, ledger, options)}` : ledger.shipments !== undefined ? ` — ${ledger.shipments.length} shipment(s)` : '';
      if (list.length < 5) list.push(`${order.orderId} ${order.status} ${sent}answered at ${Math.round(order.answeredAtMs)} ms${evidence}`);
    }
    if (outcome === 'double-charge') duplicateCharges += ledger.charges.filter((charge) => charge.status === 'CAPTURED').length - 1;
  }
  return { checked: orders.length, unverified, outcomes, violations, duplicateCharges, examples, ledgerLost, ok: violations === 0 };
}

/**
 * How fast the worker charged the queued orders: the CAPTURED charges of the orders answered
 * 202, by their ledger time. `rate` = charges ÷ (last − first); null for fewer than 2.
 */
export function workerChargeRate(
  orders: readonly CheckedOrder[],
  ledgers: ReadonlyMap<string, OrderLedger>,
): { charged: number; firstAt: string | null; lastAt: string | null; spanMs: number | null; rate: number | null; peakPerSecond: number } {
  const times: number[] = [];
  for (const order of orders) {
    if (order.status !== 202) continue;
    for (const charge of ledgers.get(order.orderId)?.charges ?? []) {
      if (charge.status !== 'CAPTURED' || charge.createdAt === undefined) continue;
      const t = Date.parse(charge.createdAt);
      if (!Number.isNaN(t)) times.push(t);
    }
  }
  if (times.length === 0) return { charged: 0, firstAt: null, lastAt: null, spanMs: null, rate: null, peakPerSecond: 0 };
  times.sort((a, b) => a - b);
  const first = times[0]!;
  const last = times[times.length - 1]!;
  const spanMs = last - first;
  // The most captures in any 1 s: the worker's speed while messages were ready, the delay
  // tiers they wait in (1 s, 2 s, 4 s here) aside.
  let peakPerSecond = 0;
  for (let i = 0, j = 0; j < times.length; j += 1) {
    while (times[j]! - times[i]! >= 1_000) i += 1;
    peakPerSecond = Math.max(peakPerSecond, j - i + 1);
  }
  return {
    charged: times.length,
    firstAt: new Date(first).toISOString(),
    lastAt: new Date(last).toISOString(),
    spanMs,
    rate: times.length < 2 || spanMs === 0 ? null : times.length / (spanMs / 1000),
    peakPerSecond,
  };
}
