import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal } from '@checkout/service-kit';
import { type Authorization, ChargeLedger, type ChargeRequest } from './ledger';
import { ManualClock } from '../../../shared/service-kit/src/testing/stub-contract.test.util';

const request: ChargeRequest = { orderId: 'ord-1', customerId: 'cus-1', amount: 4599, currency: 'EUR', paymentToken: 'tok_visa' };

function sequentialIds(): () => string {
  let n = 0;
  return () => `ch_${++n}`;
}

describe('ChargeLedger', () => {
  test('captures a charge with the time of the clock and lists it under its order', async () => {
    const clock = new ManualClock('2025-03-03T09:00:00.000Z');
    const ledger = new ChargeLedger({ clock: clock.now, newId: sequentialIds() });
    const result = await ledger.charge('key-1', request);
    expect(result).toEqual({
      kind: 'charged',
      replayed: false,
      charge: { chargeId: 'ch_1', orderId: 'ord-1', customerId: 'cus-1', amount: 4599, currency: 'EUR', status: 'CAPTURED', createdAt: '2025-03-03T09:00:00.000Z' },
    });
    expect(ledger.chargesFor('ord-1')).toHaveLength(1);
    expect(ledger.chargesFor('ord-other')).toEqual([]);
  });

  test('declines tok_decline and records the decline', async () => {
    const ledger = new ChargeLedger();
    const result = await ledger.charge('key-1', { ...request, paymentToken: 'tok_decline' });
    expect(result).toMatchObject({ kind: 'charged', charge: { status: 'DECLINED', reason: 'card_declined' } });
    expect(ledger.chargesFor('ord-1').map((charge) => charge.status)).toEqual(['DECLINED']);
  });

  test('the same key and request replays the first charge without charging again', async () => {
    const clock = new ManualClock();
    const ledger = new ChargeLedger({ clock: clock.now, newId: sequentialIds() });
    const first = await ledger.charge('key-1', request);
    clock.advance(60_000);
    const again = await ledger.charge('key-1', { ...request });
    expect(again).toEqual({ ...first, replayed: true });
    expect(ledger.chargesFor('ord-1')).toHaveLength(1);
  });

  test('the same key with another request is refused and charges nothing', async () => {
    const ledger = new ChargeLedger();
    await ledger.charge('key-1', request);
    expect(await ledger.charge('key-1', { ...request, amount: 4600 })).toEqual({ kind: 'key_reused', inFlight: false });
    expect(ledger.chargesFor('ord-1')).toHaveLength(1);
  });

  test('another key for the same order is another charge (a duplicate the ledger makes visible)', async () => {
    const ledger = new ChargeLedger();
    await ledger.charge('key-1', request);
    await ledger.charge('key-2', request);
    expect(ledger.chargesFor('ord-1').filter((charge) => charge.status === 'CAPTURED')).toHaveLength(2);
  });

  test('a concurrent request with the same key waits for the first one and gets its charge', async () => {
    let approve!: (value: Authorization) => void;
    const authorize = jest.fn(() => new Promise<Authorization>((resolve) => (approve = resolve)));
    const ledger = new ChargeLedger({ authorize });
    const first = ledger.charge('key-1', request);
    const second = ledger.charge('key-1', request);
    const conflicting = await ledger.charge('key-1', { ...request, amount: 1 });
    expect(conflicting).toEqual({ kind: 'key_reused', inFlight: true });

    approve({ approved: true });
    const [a, b] = await Promise.all([first, second]);
    expect(authorize).toHaveBeenCalledTimes(1);
    expect(a).toMatchObject({ kind: 'charged', replayed: false });
    expect(b).toMatchObject({ kind: 'charged', replayed: true });
    expect(a.kind === 'charged' && b.kind === 'charged' && a.charge === b.charge).toBe(true);
    expect(ledger.chargesFor('ord-1')).toHaveLength(1);
  });

  test('a processor failure forgets the key so that the request can be retried', async () => {
    const authorize = jest
      .fn<Authorization, [ChargeRequest]>()
      .mockImplementationOnce(() => {
        throw new Error('processor exploded');
      })
      .mockReturnValue({ approved: true });
    const ledger = new ChargeLedger({ authorize });
    await expect(ledger.charge('key-1', request)).rejects.toThrow('processor exploded');
    expect(ledger.keys).toBe(0);
    expect(await ledger.charge('key-1', request)).toMatchObject({ kind: 'charged', replayed: false, charge: { status: 'CAPTURED' } });
    expect(ledger.chargesFor('ord-1')).toHaveLength(1);
  });

  test('keeps no payment token in what it returns', async () => {
    const ledger = new ChargeLedger();
    await ledger.charge('key-1', { ...request, paymentToken: 'tok_secret_4242' });
    expect(JSON.stringify(ledger.chargesFor('ord-1'))).not.toContain('tok_secret_4242');
  });
});

describe('ChargeLedger with a journal (the books survive a restart)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ledger-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('a charge answered before a kill is still there after it: a replay is the same charge, never a second one', async () => {
    const path = join(dir, 'payment.journal');
    const journal = Journal.open(path);
    const before = new ChargeLedger({ newId: sequentialIds(), journal });
    const first = await before.charge('key-1', request);
    await before.charge('key-2', { ...request, orderId: 'ord-2', paymentToken: 'tok_decline' });
    // Each charge was written before it was answered (journal.test.ts: without close() too);
    // closing here only frees the lock for the next ledger in this same process.
    journal.close();

    const after = new ChargeLedger({ newId: () => 'ch_new', journal: Journal.open(path) });
    expect(after.chargesFor('ord-1')).toEqual([first.kind === 'charged' ? first.charge : undefined]);
    expect(after.chargesFor('ord-2').map((c) => c.status)).toEqual(['DECLINED']);
    const replay = await after.charge('key-1', request);
    expect(replay).toEqual({ kind: 'charged', charge: first.kind === 'charged' ? first.charge : undefined, replayed: true });
    expect(await after.charge('key-1', { ...request, amount: 1 })).toEqual({ kind: 'key_reused', inFlight: false });
    expect(after.chargesFor('ord-1')).toHaveLength(1);
  });
});
