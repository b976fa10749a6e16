import { FaultInjector } from './injector';
import { seededRandom } from './prng';
import { faultSettingsFromEnv, faultSettingsSchema, type FaultSettingsInput, routeMatches } from './settings';

const settings = (input: FaultSettingsInput) => faultSettingsSchema.parse(input);

function injector(input: FaultSettingsInput, extra: { clock?: () => number; random?: () => number } = {}) {
  return new FaultInjector({ settings: settings(input), ...extra });
}

/** The failure (or 'ok') of `count` GET /items requests. */
function outcomes(faults: FaultInjector, count: number, path = '/items'): string[] {
  return Array.from({ length: count }, () => faults.decide('GET', path)?.failure ?? 'ok');
}

describe('FaultInjector.decide', () => {
  it('injects nothing without settings', () => {
    expect(outcomes(new FaultInjector(), 5)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
  });

  it('fails every Nth request in scope', () => {
    expect(outcomes(injector({ everyNth: 3 }), 7)).toEqual(['ok', 'ok', 'error', 'ok', 'ok', 'error', 'ok']);
  });

  it('repeats the same sequence for the same seed, and it follows the seeded PRNG', () => {
    const first = outcomes(injector({ errorRate: 0.5, seed: 7 }), 40);
    const second = outcomes(injector({ errorRate: 0.5, seed: 7 }), 40);
    expect(second).toEqual(first);
    const random = seededRandom(7);
    expect(first).toEqual(Array.from({ length: 40 }, () => (random() < 0.5 ? 'error' : 'ok')));
    expect(first).toContain('error');
    expect(first).toContain('ok');
  });

  it('restarts the seeded sequence and the Nth count when settings are set again', () => {
    const faults = injector({ errorRate: 0.3, seed: 99 });
    const first = outcomes(faults, 20);
    faults.set(settings({ errorRate: 0.3, seed: 99 }));
    expect(outcomes(faults, 20)).toEqual(first);
  });

  it('errorRate 1 fails everything and 0 nothing', () => {
    expect(outcomes(injector({ errorRate: 1 }), 3)).toEqual(['error', 'error', 'error']);
    expect(outcomes(injector({ errorRate: 0, errorStatus: 503 }), 3)).toEqual(['ok', 'ok', 'ok']);
  });

  it('hang and reset alone apply to every request; with a selector, to picked ones', () => {
    expect(outcomes(injector({ hang: true }), 2)).toEqual(['hang', 'hang']);
    expect(outcomes(injector({ reset: true, everyNth: 2 }), 4)).toEqual(['ok', 'reset', 'ok', 'reset']);
  });

  it('down wins over everything', () => {
    expect(outcomes(injector({ down: true, everyNth: 2, latencyMs: 100 }), 2)).toEqual(['down', 'down']);
    expect(injector({ down: true, latencyMs: 100 }).decide('GET', '/x')).toEqual({ delayMs: 0, failure: 'down' });
  });

  it('flaps on the injected clock: failing first, then healthy, period after period', () => {
    let now = 10_000;
    const faults = injector({ flap: { periodMs: 1_000, dutyCycle: 0.25 } }, { clock: () => now });
    const at = (ms: number) => {
      now = 10_000 + ms;
      return faults.decide('GET', '/items')?.failure ?? 'ok';
    };
    expect([at(0), at(249), at(250), at(999), at(1_000), at(1_249), at(1_250)]).toEqual(['error', 'error', 'ok', 'ok', 'error', 'error', 'ok']);
  });

  it('flap gates errorRate: only the failing part of the period can fail', () => {
    let now = 0;
    const faults = injector({ flap: { periodMs: 100, dutyCycle: 0.5 }, errorRate: 1 }, { clock: () => now });
    now = 10;
    expect(faults.decide('GET', '/a')?.failure).toBe('error');
    now = 60;
    expect(faults.decide('GET', '/a')).toBeUndefined();
  });

  it('delays by latencyMs ± jitterMs, for latencyRate of the requests', () => {
    expect(injector({ latencyMs: 200 }).decide('GET', '/a')).toEqual({ delayMs: 200, failure: undefined });
    const random = jest.fn().mockReturnValueOnce(0).mockReturnValueOnce(0.999999);
    const jittery = injector({ latencyMs: 200, jitterMs: 50 }, { random });
    expect(jittery.decide('GET', '/a')?.delayMs).toBe(150);
    expect(jittery.decide('GET', '/a')?.delayMs).toBe(250);
    // 10 - 50 is clamped to no delay at all.
    expect(injector({ latencyMs: 10, jitterMs: 50 }, { random: () => 0 }).decide('GET', '/a')).toBeUndefined();
    const sometimes = injector({ latencyMs: 100, latencyRate: 0.5 }, { random: jest.fn().mockReturnValueOnce(0.7).mockReturnValueOnce(0.2) });
    expect(sometimes.decide('GET', '/a')).toBeUndefined();
    expect(sometimes.decide('GET', '/a')?.delayMs).toBe(100);
  });

  it('never touches admin, health and metrics', () => {
    const faults = injector({ down: true });
    for (const path of ['/admin/faults', '/health/live', '/health/ready', '/metrics']) expect(faults.decide('GET', path)).toBeUndefined();
    expect(faults.decide('GET', '/metricsx')?.failure).toBe('down');
  });

  it('limits faults to the given routes', () => {
    const faults = injector({ errorRate: 1, routes: ['POST /charges', '/stock/:sku'] });
    expect(faults.decide('POST', '/charges')?.failure).toBe('error');
    expect(faults.decide('GET', '/charges')).toBeUndefined();
    expect(faults.decide('GET', '/stock/sku-1')?.failure).toBe('error');
    expect(faults.decide('GET', '/products')).toBeUndefined();
  });

  it('injects nothing more once closed (shutdown)', () => {
    const faults = injector({ errorRate: 1 });
    faults.close();
    expect(faults.decide('GET', '/a')).toBeUndefined();
  });

  it('counts what it decided in its snapshot (not the decisions themselves: those count when applied)', () => {
    const faults = injector({ everyNth: 2, routes: ['/a'] });
    outcomes(faults, 4, '/a');
    outcomes(faults, 3, '/b');
    expect(faults.snapshot()).toMatchObject({ enabled: true, active: true, requests: 4, hanging: 0 });
  });
});

describe('routeMatches', () => {
  it.each([
    ['/charges', 'GET', '/charges', true],
    ['/charges', 'POST', '/charges/ch_1', true],
    ['/charges', 'GET', '/chargesx', false],
    ['/stock/:sku', 'GET', '/stock/abc', true],
    ['/stock/:sku', 'GET', '/stock', false],
    ['GET /stock/:sku', 'POST', '/stock/abc', false],
    ['GET /products', 'HEAD', '/products', true],
    ['/reservations/*', 'DELETE', '/reservations/r1/items', true],
    ['/', 'GET', '/anything', true],
  ])('%s matches %s %s: %p', (pattern, method, path, expected) => {
    expect(routeMatches(pattern, method, path)).toBe(expected);
  });
});

describe('fault settings', () => {
  it('rejects unknown fields, out-of-range values and hang with reset', () => {
    const result = faultSettingsSchema.safeParse({ errorRate: 1.5, errorStatus: 404, latencyMs: -1, hang: true, reset: true, errorrate: 0.5 });
    expect(result.success).toBe(false);
    const paths = result.error!.issues.map((issue) => issue.path.join('.') || (issue as { keys?: string[] }).keys?.join(','));
    expect(paths).toEqual(expect.arrayContaining(['errorRate', 'errorStatus', 'latencyMs', 'errorrate']));
  });

  it('reads the FAULT_* variables', () => {
    expect(
      faultSettingsFromEnv({
        FAULT_ERROR_RATE: 0.5,
        FAULT_ERROR_STATUS: 429,
        FAULT_RETRY_AFTER_SECONDS: 3,
        FAULT_LATENCY_MS: 100,
        FAULT_JITTER_MS: 20,
        FAULT_LATENCY_RATE: 1,
        FAULT_HANG: false,
        FAULT_RESET: false,
        FAULT_DOWN: false,
        FAULT_FLAP_PERIOD_MS: 1_000,
        FAULT_FLAP_DUTY_CYCLE: 0.5,
        FAULT_EVERY_NTH: 4,
        FAULT_SEED: 1,
        FAULT_ROUTES: ['/charges'],
      }),
    ).toEqual({
      errorRate: 0.5,
      errorStatus: 429,
      retryAfterSeconds: 3,
      latencyMs: 100,
      jitterMs: 20,
      latencyRate: 1,
      hang: false,
      reset: false,
      down: false,
      flap: { periodMs: 1_000, dutyCycle: 0.5 },
      everyNth: 4,
      seed: 1,
      routes: ['/charges'],
    });
  });
});
