import { EventEmitter } from 'node:events';
import { type ChildLike, Supervisor, SupervisorError, type SupervisorEvent } from './supervisor';

/** A child that records signals; `exit()` ends it. SIGKILL ends it at once, SIGTERM only if `obeysTerm`. */
class FakeChild extends EventEmitter implements ChildLike {
  readonly signals: NodeJS.Signals[] = [];
  constructor(
    readonly pid: number,
    private readonly obeysTerm = true,
  ) {
    super();
  }
  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    this.signals.push(signal);
    if (signal === 'SIGKILL') queueMicrotask(() => this.exit(null, 'SIGKILL'));
    else if (this.obeysTerm) queueMicrotask(() => this.exit(0, null));
    return true;
  }
  exit(code: number | null, signal: NodeJS.Signals | null): void {
    this.emit('exit', code, signal);
  }
}

function setup(options: { obeysTerm?: boolean; stopTimeoutMs?: number } = {}) {
  const children: FakeChild[] = [];
  const events: SupervisorEvent[] = [];
  let pid = 100;
  const supervisor = new Supervisor({
    names: ['payment', 'checkout'],
    stopTimeoutMs: options.stopTimeoutMs ?? 1_000,
    spawn: () => {
      const child = new FakeChild(++pid, options.obeysTerm ?? true);
      children.push(child);
      return child;
    },
    onEvent: (event) => events.push(event),
  });
  return { supervisor, children, events };
}

describe('Supervisor', () => {
  test('starts children and lists them', () => {
    const { supervisor, events } = setup();
    supervisor.start('payment');
    expect(supervisor.list()).toEqual([
      { name: 'payment', status: 'running', pid: 101, exitCode: null, signal: null, restarts: 0 },
      { name: 'checkout', status: 'stopped', pid: null, exitCode: null, signal: null, restarts: 0 },
    ]);
    expect(events).toEqual([{ type: 'started', name: 'payment', pid: 101 }]);
    expect(supervisor.running).toEqual(['payment']);
  });

  test('a child that dies by itself is reported as crashed and not restarted', () => {
    const { supervisor, children, events } = setup();
    supervisor.start('payment');
    children[0]!.exit(1, null);
    expect(events.at(-1)).toEqual({ type: 'exited', name: 'payment', code: 1, signal: null, reason: 'crashed' });
    expect(supervisor.info('payment')).toMatchObject({ status: 'exited', exitCode: 1 });
    expect(children).toHaveLength(1);
  });

  test('kill sends SIGKILL and the child stays down until started again', async () => {
    const { supervisor, children, events } = setup();
    supervisor.start('payment');
    await expect(supervisor.kill('payment')).resolves.toMatchObject({ status: 'killed', signal: 'SIGKILL' });
    expect(children[0]!.signals).toEqual(['SIGKILL']);
    expect(events.at(-1)).toMatchObject({ type: 'exited', reason: 'killed' });
    expect(supervisor.start('payment')).toMatchObject({ status: 'running', pid: 102, restarts: 1 });
  });

  test('stop sends SIGTERM and waits; SIGKILL after the deadline if the child ignores it', async () => {
    jest.useFakeTimers();
    try {
      const { supervisor, children } = setup({ obeysTerm: false, stopTimeoutMs: 5_000 });
      supervisor.start('payment');
      const stopped = supervisor.stop('payment');
      expect(supervisor.info('payment').status).toBe('stopping');
      await jest.advanceTimersByTimeAsync(4_999);
      expect(children[0]!.signals).toEqual(['SIGTERM']);
      await jest.advanceTimersByTimeAsync(1);
      await expect(stopped).resolves.toMatchObject({ status: 'stopped', signal: 'SIGKILL' });
      expect(children[0]!.signals).toEqual(['SIGTERM', 'SIGKILL']);
    } finally {
      jest.useRealTimers();
    }
  });

  test('restart stops gracefully then starts a new child', async () => {
    const { supervisor, children } = setup();
    supervisor.start('checkout');
    await expect(supervisor.restart('checkout')).resolves.toMatchObject({ status: 'running', pid: 102, restarts: 1 });
    expect(children[0]!.signals).toEqual(['SIGTERM']);
  });

  test('stopAll stops every running child', async () => {
    const { supervisor, events } = setup();
    supervisor.start('payment');
    supervisor.start('checkout');
    await supervisor.stopAll();
    expect(supervisor.running).toEqual([]);
    expect(events.filter((event) => event.type === 'exited').map((event) => event.type === 'exited' && event.reason)).toEqual(['stopped', 'stopped']);
  });

  test('refuses what makes no sense: unknown names (404), starting a running child, killing a stopped one (409)', async () => {
    const { supervisor } = setup();
    expect(() => supervisor.start('billing')).toThrow(expect.objectContaining({ status: 404 }));
    supervisor.start('payment');
    expect(() => supervisor.start('payment')).toThrow(SupervisorError);
    expect(() => supervisor.start('payment')).toThrow('payment is already running');
    await expect(supervisor.kill('checkout')).rejects.toMatchObject({ status: 409, message: 'checkout is not running (stopped)' });
    await expect(supervisor.stop('checkout')).resolves.toMatchObject({ status: 'stopped' });
  });
});
