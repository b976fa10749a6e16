import { TOPOLOGY, serviceSpec } from '../topology';
import { buildServiceEnv, generateToken, readSettings, SettingsError } from './env';

describe('readSettings', () => {
  test('defaults: the topology ports, the local broker, a generated token', () => {
    const settings = readSettings({}, () => 'generated-token-123');
    expect(settings.ports).toEqual(Object.fromEntries(TOPOLOGY.map((spec) => [spec.name, spec.port])));
    expect(settings.amqpUrl).toBe('amqp://guest:guest@127.0.0.1:5672');
    expect(settings).toMatchObject({ adminToken: 'generated-token-123', tokenGenerated: true, host: '127.0.0.1', controlPort: 0 });
  });

  test('a token from the environment is used as is and marked as given', () => {
    expect(readSettings({ ADMIN_TOKEN: 'my-own-token' }, () => 'unused-token')).toMatchObject({ adminToken: 'my-own-token', tokenGenerated: false });
  });

  test('<SERVICE>_PORT moves a service; AMQP_URL and LAUNCHER_CONTROL_PORT are read', () => {
    const settings = readSettings({ PAYMENT_PORT: '4101', CHECKOUT_PORT: '4100', AMQP_URL: 'amqp://u:p@broker:5673', LAUNCHER_CONTROL_PORT: '4199' });
    expect(settings.ports).toMatchObject({ checkout: 4100, payment: 4101, inventory: 3002, worker: null });
    expect(settings).toMatchObject({ amqpUrl: 'amqp://u:p@broker:5673', controlPort: 4199 });
  });

  test.each([
    [{ PAYMENT_PORT: 'eighty' }, 'PAYMENT_PORT must be a port number'],
    [{ PAYMENT_PORT: '70000' }, 'PAYMENT_PORT must be a port number'],
    [{ PAYMENT_PORT: '0' }, 'PAYMENT_PORT must be a fixed port'],
    [{ ADMIN_TOKEN: 'short' }, 'ADMIN_TOKEN must be at least 8 characters'],
  ])('refuses %j', (env, message) => {
    expect(() => readSettings(env)).toThrow(SettingsError);
    expect(() => readSettings(env)).toThrow(message);
  });

  test('generated tokens are 32 hex characters and differ', () => {
    expect(generateToken()).toMatch(/^[0-9a-f]{32}$/);
    expect(generateToken()).not.toBe(generateToken());
  });
});

describe('buildServiceEnv', () => {
  const settings = readSettings({ ADMIN_TOKEN: 'the-admin-token', PAYMENT_PORT: '4101' });
  const base = { PATH: '/usr/bin', LOG_LEVEL: 'debug', PORT: '9999', FAULTS_ENABLED: 'true', ADMIN_TOKEN: 'the-admin-token' };

  test('a stub: its port on 127.0.0.1, fault injection on with the admin token; payment keeps its ledger in data/', () => {
    expect(buildServiceEnv(serviceSpec('payment'), settings, base)).toEqual({
      PATH: '/usr/bin',
      LOG_LEVEL: 'debug',
      PORT: '4101',
      HOST: '127.0.0.1',
      FAULTS_ENABLED: 'true',
      ADMIN_TOKEN: 'the-admin-token',
      DATA_DIR: 'data',
    });
    expect(buildServiceEnv(serviceSpec('inventory'), settings, base).DATA_DIR).toBeUndefined();
    expect(buildServiceEnv(serviceSpec('payment'), settings, { ...base, DATA_DIR: '/tmp/run-1' }).DATA_DIR).toBe('/tmp/run-1');
  });

  test('checkout: the broker and the URL of every stub (moved ones too); no fault injection, no admin token', () => {
    expect(buildServiceEnv(serviceSpec('checkout'), settings, base)).toEqual({
      PATH: '/usr/bin',
      LOG_LEVEL: 'debug',
      PORT: '3000',
      HOST: '127.0.0.1',
      AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
      PAYMENT_URL: 'http://127.0.0.1:4101',
      INVENTORY_URL: 'http://127.0.0.1:3002',
      SHIPPING_URL: 'http://127.0.0.1:3003',
      NOTIFICATION_URL: 'http://127.0.0.1:3004',
      DATA_DIR: 'data',
    });
  });

  test('the worker: no port of its own (it has no HTTP server)', () => {
    const env = buildServiceEnv(serviceSpec('worker'), settings, base);
    expect(env.PORT).toBeUndefined();
    expect(env.HOST).toBeUndefined();
    expect(env.AMQP_URL).toBe('amqp://guest:guest@127.0.0.1:5672');
    expect(env.PAYMENT_URL).toBe('http://127.0.0.1:4101');
  });

  test('never changes the environment it is given', () => {
    const copy = { ...base };
    buildServiceEnv(serviceSpec('payment'), settings, base);
    expect(base).toEqual(copy);
  });
});
