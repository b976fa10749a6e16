import { type CheckedOrder, checkInvariants, classify, type OrderLedger, workerChargeRate } from './invariants';

const order = (orderId: string, status: number, extra: Partial<CheckedOrder> = {}): CheckedOrder => ({ orderId, status, answeredAtMs: 1_000, chargeId: null, ...extra });
const ledger = (charges: string[], reservations: string[]): OrderLedger => ({ charges: charges.map((status) => ({ status })), reservations: reservations.map((status) => ({ status })) });

describe('classify', () => {
  it.each([
    ['201 paid once, stock held', order('a', 201), ledger(['CAPTURED'], ['HELD']), 'paid'],
    ['202 charged later by the worker', order('a', 202), ledger(['CAPTURED'], ['HELD']), 'paid'],
    ['202 parked: failed, stock released', order('a', 202), ledger([], ['RELEASED']), 'failed-released'],
    ['202 never charged, stock still held', order('a', 202), ledger([], ['HELD']), 'pending'],
    ['202 with no trace anywhere', order('a', 202), ledger([], []), 'lost'],
    ['charged twice', order('a', 202), ledger(['CAPTURED', 'CAPTURED'], ['HELD']), 'double-charge'],
    ['a decline then a capture is one charge', order('a', 202), ledger(['DECLINED', 'CAPTURED'], ['HELD']), 'paid'],
    ['paid but the stock released', order('a', 201), ledger(['CAPTURED'], ['RELEASED']), 'paid-stock-released'],
    ['402 declined, stock released', order('a', 402), ledger(['DECLINED'], ['RELEASED']), 'declined-released'],
    ['402 with the stock still held', order('a', 402), ledger(['DECLINED'], ['HELD']), 'declined-not-released'],
    ['503 with nothing reserved', order('a', 503), ledger([], []), 'refused-clean'],
    ['503 with the reservation released', order('a', 503), ledger([], ['RELEASED']), 'refused-clean'],
    ['503 holding stock', order('a', 503), ledger([], ['HELD']), 'stock-leaked'],
    ['503 but charged', order('a', 503), ledger(['CAPTURED'], ['RELEASED']), 'charged-but-refused'],
    ['409 refused, nothing done', order('a', 409), ledger([], []), 'refused-clean'],
  ] as const)('%s', (_name, o, l, outcome) => {
    expect(classify(o, l)).toBe(outcome);
  });

  it('trusts the answer of a 201 made before the payment process (and its ledger) was killed', () => {
    const paidBefore = order('a', 201, { answeredAtMs: 3_900, chargeId: 'ch_1' });
    expect(classify(paidBefore, ledger([], ['HELD']), { paymentLedgerLostBeforeMs: 4_000 })).toBe('paid-ledger-lost');
    // after the kill, or without a charge id, the ledger must show it
    expect(classify(order('b', 201, { answeredAtMs: 4_100, chargeId: 'ch_2' }), ledger([], ['HELD']), { paymentLedgerLostBeforeMs: 4_000 })).toBe('pending');
    expect(classify(order('c', 201, { answeredAtMs: 3_900 }), ledger([], ['HELD']), { paymentLedgerLostBeforeMs: 4_000 })).toBe('pending');
    // a 202 is never "paid" by its answer
    expect(classify(order('d', 202, { answeredAtMs: 3_900, chargeId: 'ch_3' }), ledger([], ['HELD']), { paymentLedgerLostBeforeMs: 4_000 })).toBe('pending');
  });

  it('counts a capture that died with the killed payment process when a shipment shows it', () => {
    const killed = { paymentLedgerLostBeforeMs: 4_000 };
    const shipped: OrderLedger = { ...ledger([], ['HELD']), shipments: [{ shipmentId: 'shp_1', createdAt: '2026-01-01T00:00:04.010Z' }] };
    // a 201 answered just after the kill: its capture was made just before, its shipment exists
    expect(classify(order('a', 201, { sentAtMs: 3_980, answeredAtMs: 4_020, chargeId: 'ch_1' }), shipped, killed)).toBe('paid-ledger-lost');
    // a 202 charged by the worker in the killed process, then shipped
    expect(classify(order('b', 202, { sentAtMs: 3_000, answeredAtMs: 3_010 }), shipped, killed)).toBe('paid-ledger-lost');
    // without a shipment it is a real loss, kill or not
    expect(classify(order('c', 201, { sentAtMs: 3_980, answeredAtMs: 4_020, chargeId: 'ch_1' }), ledger([], ['HELD']), killed)).toBe('pending');
    // an order sent after the kill must be in the new ledger, shipment or not
    expect(classify(order('d', 201, { sentAtMs: 4_500, answeredAtMs: 4_520, chargeId: 'ch_1' }), shipped, killed)).toBe('pending');
    // no kill: the ledger is the only evidence
    expect(classify(order('e', 201, { sentAtMs: 3_980, answeredAtMs: 4_020, chargeId: 'ch_1' }), shipped)).toBe('pending');
    // a refused order is never paid by a shipment
    expect(classify(order('f', 503, { sentAtMs: 3_000 }), { ...ledger([], []), shipments: [{}] }, killed)).toBe('refused-clean');
  });

  it('prints the evidence of each capture lost with the ledger', () => {
    const shipped: OrderLedger = { ...ledger([], ['HELD']), shipments: [{ shipmentId: 'shp_1' }] };
    const report = checkInvariants([order('a', 201, { sentAtMs: 3_980, answeredAtMs: 4_020, chargeId: 'ch_1' })], new Map([['a', shipped]]), 0, { paymentLedgerLostBeforeMs: 4_000 });
    expect(report.ok).toBe(true);
    expect(report.examples['paid-ledger-lost']).toEqual(['a 201 sent at 3980 ms, answered at 4020 ms — sent before the kill, shipment shp_1 exists']);
    expect(report.ledgerLost).toEqual({ answeredBeforeKill: 0, shipment: 1 });
  });
});

describe('checkInvariants', () => {
  it('passes a clean run', () => {
    const ledgers = new Map([
      ['a', ledger(['CAPTURED'], ['HELD'])],
      ['b', ledger([], ['RELEASED'])],
      ['c', ledger([], [])],
    ]);
    const report = checkInvariants([order('a', 201), order('b', 202), order('c', 503)], ledgers, 2);
    expect(report).toEqual({
      checked: 3,
      unverified: 2,
      outcomes: { paid: 1, 'failed-released': 1, 'refused-clean': 1 },
      violations: 0,
      duplicateCharges: 0,
      examples: {},
      ledgerLost: { answeredBeforeKill: 0, shipment: 0 },
      ok: true,
    });
  });

  it('counts violations, extra captures as duplicate charges, and keeps a few examples', () => {
    const ledgers = new Map<string, OrderLedger>([
      ['a', ledger(['CAPTURED', 'CAPTURED', 'CAPTURED'], ['HELD'])],
      ['b', ledger(['CAPTURED', 'CAPTURED'], ['HELD'])],
    ]);
    const pending = Array.from({ length: 7 }, (_, i) => order(`p${i}`, 202));
    for (const p of pending) ledgers.set(p.orderId, ledger([], ['HELD']));
    const report = checkInvariants([order('a', 202), order('b', 201), ...pending], ledgers, 0);
    expect(report.ok).toBe(false);
    expect(report.violations).toBe(9);
    expect(report.duplicateCharges).toBe(3);
    expect(report.outcomes).toEqual({ 'double-charge': 2, pending: 7 });
    expect(report.examples['double-charge']).toEqual(['a 202 answered at 1000 ms', 'b 201 answered at 1000 ms']);
    expect(report.examples.pending).toHaveLength(5);
  });

  it('treats an order missing from the ledgers as having nothing', () => {
    expect(checkInvariants([order('x', 202)], new Map(), 0).outcomes).toEqual({ lost: 1 });
  });
});

describe('workerChargeRate', () => {
  it('rates the captures of the queued (202) orders by their ledger times', () => {
    const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms).toISOString();
    const ledgers = new Map<string, OrderLedger>([
      ['q1', { charges: [{ status: 'CAPTURED', createdAt: at(1_000) }], reservations: [] }],
      ['q2', { charges: [{ status: 'CAPTURED', createdAt: at(1_500) }], reservations: [] }],
      ['q3', { charges: [{ status: 'DECLINED', createdAt: at(1_700) }, { status: 'CAPTURED', createdAt: at(2_000) }], reservations: [] }],
      ['n1', { charges: [{ status: 'CAPTURED', createdAt: at(0) }], reservations: [] }],
    ]);
    const result = workerChargeRate([order('q1', 202), order('q2', 202), order('q3', 202), order('n1', 201)], ledgers);
    expect(result).toEqual({ charged: 3, firstAt: at(1_000), lastAt: at(2_000), spanMs: 1_000, rate: 3, peakPerSecond: 2 });
  });

  it('has no rate without queued charges', () => {
    expect(workerChargeRate([order('a', 201)], new Map()).rate).toBeNull();
  });
});
