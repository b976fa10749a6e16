import { timeline, SCENARIO_NAMES, SCENARIOS } from './scenarios';
import { formatSubstitutions, substituteAction, TARGET_VARIABLES, targetUrlsFromEnv, withoutProcessControl } from './target';
import { UsageError } from './errors';

const ENV = {
  CHECKOUT_URL: 'http://checkout:3000/',
  PAYMENT_URL: 'http://payment:3001',
  INVENTORY_URL: 'http://inventory:3002',
  SHIPPING_URL: 'http://shipping:3003',
  NOTIFICATION_URL: 'https://notification.example:3004',
  ADMIN_TOKEN: 'a-long-admin-token',
};

describe('targetUrlsFromEnv', () => {
  it('is undefined when no URL variable is set (ADMIN_TOKEN alone is the launcher mode token)', () => {
    expect(targetUrlsFromEnv({})).toBeUndefined();
    expect(targetUrlsFromEnv({ ADMIN_TOKEN: 'a-long-admin-token', CHECKOUT_URL: '  ' })).toBeUndefined();
  });

  it('reads every URL (trailing slash dropped) and the token', () => {
    expect(targetUrlsFromEnv(ENV)).toEqual({
      checkout: 'http://checkout:3000',
      payment: 'http://payment:3001',
      inventory: 'http://inventory:3002',
      shipping: 'http://shipping:3003',
      notification: 'https://notification.example:3004',
      adminToken: 'a-long-admin-token',
    });
  });

  it.each(TARGET_VARIABLES.map((name) => [name]))('needs %s with the others, and names it', (missing) => {
    const env: Record<string, string> = { ...ENV };
    delete env[missing];
    expect(() => targetUrlsFromEnv(env)).toThrow(UsageError);
    expect(() => targetUrlsFromEnv(env)).toThrow(`${missing} is not set`);
  });

  it('names every missing variable when only one URL is given', () => {
    expect(() => targetUrlsFromEnv({ PAYMENT_URL: 'http://payment:3001' })).toThrow('CHECKOUT_URL, INVENTORY_URL, SHIPPING_URL, NOTIFICATION_URL, ADMIN_TOKEN are not set');
  });

  it('refuses what is not an http(s) URL', () => {
    expect(() => targetUrlsFromEnv({ ...ENV, PAYMENT_URL: 'payment:3001' })).toThrow(/PAYMENT_URL must be an http/);
    expect(() => targetUrlsFromEnv({ ...ENV, INVENTORY_URL: 'amqp://inventory' })).toThrow(/INVENTORY_URL must be an http/);
  });
});

describe('without process control', () => {
  it('replaces a kill by the reset switch and a start by clearing the switches, saying why', () => {
    const kill = substituteAction({ kind: 'kill', service: 'payment' });
    expect(kill.action).toEqual({ kind: 'faults', service: 'payment', settings: { reset: true } });
    expect(kill.substitution).toMatchObject({ instead: 'kill payment', applied: 'payment reset' });
    expect(kill.substitution!.why).toMatch(/no launcher control server.*reset at once/);
    const start = substituteAction({ kind: 'start', service: 'payment' });
    expect(start.action).toEqual({ kind: 'clear', service: 'payment' });
    expect(start.substitution).toMatchObject({ instead: 'start payment', applied: 'clear payment' });
    const faults = { kind: 'faults', service: 'payment', settings: { hang: true } } as const;
    expect(substituteAction(faults)).toEqual({ action: faults });
  });

  it('runs payment-down with the reset switch on the same timeline, and reports both substitutions', () => {
    const { scenario, substitutions } = withoutProcessControl(SCENARIOS['payment-down']);
    expect(scenario.fault).toEqual([{ kind: 'faults', service: 'payment', settings: { reset: true } }]);
    expect(scenario.recovery).toEqual([{ kind: 'clear', service: 'payment' }]);
    expect(scenario.watch).toBe('payment');
    expect(scenario.description).toMatch(/reset by its fault switch instead of killed/);
    expect(timeline(scenario, 20_000).map((e) => [e.atMs, e.phase, e.label])).toEqual([
      [4_000, 'fault', 'payment reset'],
      [5_000, 'recovery', 'clear payment'],
    ]);
    expect(substitutions.map((s) => [s.instead, s.applied])).toEqual([
      ['kill payment', 'payment reset'],
      ['start payment', 'clear payment'],
    ]);
    expect(formatSubstitutions(substitutions)[0]).toMatch(/^kill payment → payment reset \(/);
    // No kill left for the invariant check to excuse lost charges with.
    expect([...scenario.fault, ...scenario.recovery].some((a) => a.kind === 'kill' || a.kind === 'start')).toBe(false);
  });

  it('leaves every other scenario as it is (fault switches already)', () => {
    for (const name of SCENARIO_NAMES.filter((n) => n !== 'payment-down')) {
      const result = withoutProcessControl(SCENARIOS[name]);
      expect(result.scenario).toBe(SCENARIOS[name]);
      expect(result.substitutions).toEqual([]);
    }
  });
});
