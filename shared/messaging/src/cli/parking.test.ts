import { PermanentError } from '../errors';
import { AMQP_URL, Harness, Ledger, waitFor } from '../testing/harness';
import { parseParkingArgs, runParkingCli } from './parking';

jest.setTimeout(20_000);

function capture(): { io: { out: (l: string) => void; err: (l: string) => void }; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l) => out.push(l), err: (l) => err.push(l) }, out, err };
}

describe('parking CLI', () => {
  it('parses commands and refuses bad usage with exit code 2', async () => {
    expect(parseParkingArgs(['replay', '--limit', '5'], { MESSAGING_PREFIX: 'p.' })).toEqual({ command: 'replay', limit: 5, json: false, prefix: 'p.' });
    expect(() => parseParkingArgs(['replay', '--limit', '0'], {})).toThrow('--limit must be a positive integer');
    expect(() => parseParkingArgs(['purge'], {})).toThrow("unknown command 'purge'");
    const c = capture();
    expect(await runParkingCli([], {}, c.io)).toBe(2);
    expect(c.err.join('\n')).toMatch(/missing command[\s\S]*usage: parking/);
    const bad = capture();
    expect(await runParkingCli(['list', '--bogus'], {}, bad.io)).toBe(2);
    expect(bad.err.join('\n')).toMatch(/unknown option --bogus[\s\S]*usage: parking/);
    expect(await runParkingCli(['replay', '--limit', 'x'], {}, capture().io)).toBe(2);
    const help = capture();
    expect(await runParkingCli(['--help'], {}, help.io)).toBe(0);
    expect(help.out.join('\n')).toMatch(/^usage: parking <list\|count\|replay>/);
    expect(help.err).toEqual([]);
  });

  describe('against the broker', () => {
    let h: Harness;
    afterEach(async () => {
      await h.teardown();
    });

    it('lists parked messages and replays them, honouring --limit', async () => {
      h = new Harness('cli', ['20ms']);
      const mq = await h.connect();
      const ledger = new Ledger();
      let declining = true;
      await mq.consume<{ orderId: string }>((order, ctx) => {
        if (declining) throw new PermanentError(`order ${order.orderId} rejected`);
        ledger.handle(ctx.messageId);
      });
      for (const id of ['c-1', 'c-2', 'c-3']) {
        await mq.publish({ orderId: id }, { messageId: id, correlationId: `req-${id}` });
        ledger.published.add(id);
      }
      const env = { AMQP_URL, MESSAGING_PREFIX: h.prefix };
      await waitFor(async () => {
        const c = capture();
        await runParkingCli(['count', '--json'], env, c.io);
        return JSON.parse(c.out[0] ?? '{}').count === 3;
      }, { message: '3 parked' });

      const list = capture();
      expect(await runParkingCli(['list', '--json'], env, list.io)).toBe(0);
      const listed = JSON.parse(list.out.join('\n')) as { count: number; messages: Array<{ messageId: string; reason: string; kind: string }> };
      expect(listed.count).toBe(3);
      expect(listed.messages.map((m) => [m.messageId, m.kind, m.reason]).sort()).toEqual([
        ['c-1', 'permanent', 'PermanentError: order c-1 rejected'],
        ['c-2', 'permanent', 'PermanentError: order c-2 rejected'],
        ['c-3', 'permanent', 'PermanentError: order c-3 rejected'],
      ]);
      const text = capture();
      expect(await runParkingCli(['list'], env, text.io)).toBe(0);
      expect(text.out[0]).toBe(`3 message(s) parked in ${h.names.parkingQueue}`);
      expect(text.out.join('\n')).toContain('reason: PermanentError: order c-2 rejected');
      expect(ledger.account(listed.messages.map((m) => m.messageId))).toMatchObject({ published: 3, handled: 0, parked: 3 });

      declining = false;
      const one = capture();
      expect(await runParkingCli(['replay', '--limit', '1'], env, one.io)).toBe(0);
      expect(one.out[0]).toBe(`replayed 1 message(s) to ${h.names.workExchange}; 0 failed; 2 left in ${h.names.parkingQueue}`);
      const rest = capture();
      expect(await runParkingCli(['replay'], env, rest.io)).toBe(0);
      expect(rest.out[0]).toContain('replayed 2 message(s)');
      await waitFor(() => ledger.handled.size === 3, { message: 'replayed messages handled' });
      expect(ledger.account([])).toMatchObject({ published: 3, handled: 3, parked: 0, missing: [] });
    });

    it('exits 1 with a clear message when the parking queue does not exist', async () => {
      h = new Harness('cli-missing');
      const c = capture();
      expect(await runParkingCli(['count'], { AMQP_URL, MESSAGING_PREFIX: h.prefix }, c.io)).toBe(1);
      expect(c.err[0]).toMatch(/NOT_FOUND - no queue/);
    });
  });
});
