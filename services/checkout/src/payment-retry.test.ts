import { CircuitBreaker } from '@checkout/breaker';
import { createLogger } from '@checkout/service-kit';
import { pauseWhileOpen } from './payment-retry';

describe('pauseWhileOpen', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const logger = createLogger({ service: 'test', level: 'silent' });
  const fail = () => Promise.reject(new Error('payment down'));

  function setup() {
    const breaker = new CircuitBreaker({ name: 'payment', window: { type: 'consecutive', failures: 2, successes: 1 }, openMs: 1_000 });
    const calls: string[] = [];
    const consumer = {
      pause: async () => void calls.push('pause'),
      resume: async () => void calls.push('resume'),
    };
    const stop = pauseWhileOpen(breaker, consumer, logger, () => calls.push('counted'));
    return { breaker, calls, stop };
  }

  it('pauses the consumer when the payment circuit opens and resumes it when the open period is over', async () => {
    const { breaker, calls } = setup();
    await breaker.execute(fail).catch(() => {});
    expect(calls).toEqual([]);
    await breaker.execute(fail).catch(() => {});
    expect(breaker.state).toBe('OPEN');
    expect(calls).toEqual(['counted', 'pause']);

    jest.advanceTimersByTime(999);
    expect(calls).toEqual(['counted', 'pause']);
    jest.advanceTimersByTime(1);
    expect(calls).toEqual(['counted', 'pause', 'resume']);
    // The next charge is the half-open probe; its success closes the circuit.
    await breaker.execute(async () => 'ok');
    expect(breaker.state).toBe('CLOSED');
  });

  it('pauses on a forced open until the circuit is reset, and stops listening when told', async () => {
    const { breaker, calls, stop } = setup();
    breaker.forceOpen();
    jest.advanceTimersByTime(60_000);
    expect(calls).toEqual(['counted', 'pause']);
    breaker.reset();
    expect(calls).toEqual(['counted', 'pause', 'resume']);
    stop();
    breaker.forceOpen();
    expect(calls).toHaveLength(3);
  });
});
