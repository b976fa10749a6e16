import { z } from 'zod';
import { baseConfigSchema, ConfigError, defineConfigSchema, loadConfig, loadConfigOrExit, portVar } from './config';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('gives every variable its default', () => {
    const config = loadConfig(baseConfigSchema, {});
    expect(config).toMatchObject({
      NODE_ENV: 'development',
      PORT: 3000,
      LOG_LEVEL: 'info',
      BODY_LIMIT: '100kb',
      FAULTS_ENABLED: false,
      FAULT_ERROR_RATE: 0,
      FAULT_ERROR_STATUS: 500,
      SHUTDOWN_TIMEOUT_MS: 10_000,
      SHUTDOWN_DELAY_MS: 0,
    });
    expect(config.ADMIN_TOKEN).toBeUndefined();
  });

  it('converts strings to numbers, booleans and lists', () => {
    const config = loadConfig(baseConfigSchema, {
      PORT: '3005',
      FAULTS_ENABLED: 'true',
      ADMIN_TOKEN: 'a-long-enough-token',
      FAULT_ERROR_RATE: '0.5',
      FAULT_ERROR_STATUS: '503',
      FAULT_ROUTES: '/charges, GET /stock/:sku,',
      FAULT_HANG: 'no',
    });
    expect(config.PORT).toBe(3005);
    expect(config.FAULTS_ENABLED).toBe(true);
    expect(config.FAULT_ERROR_RATE).toBe(0.5);
    expect(config.FAULT_ERROR_STATUS).toBe(503);
    expect(config.FAULT_ROUTES).toEqual(['/charges', 'GET /stock/:sku']);
    expect(config.FAULT_HANG).toBe(false);
  });

  it('names the bad variable and shows its value', () => {
    const error = configError(() => loadConfig(baseConfigSchema, { PORT: 'eighty' }));
    expect(error.message).toMatch(/^Invalid configuration: PORT is invalid: .*\(got "eighty"\)$/);
    expect(error.issues).toEqual([{ variable: 'PORT', message: expect.stringContaining('is invalid') }]);
  });

  it('names every bad variable at once', () => {
    const error = configError(() => loadConfig(baseConfigSchema, { PORT: '70000', FAULT_ERROR_RATE: '2', FAULT_ERROR_STATUS: '404', LOG_LEVEL: 'loud' }));
    expect(error.issues.map((issue) => issue.variable).sort()).toEqual(['FAULT_ERROR_RATE', 'FAULT_ERROR_STATUS', 'LOG_LEVEL', 'PORT']);
  });

  it('does not read "false" as true (no truthy strings)', () => {
    expect(loadConfig(baseConfigSchema, { FAULTS_ENABLED: 'false' }).FAULTS_ENABLED).toBe(false);
    const error = configError(() => loadConfig(baseConfigSchema, { FAULTS_ENABLED: 'maybe' }));
    expect(error.message).toContain('FAULTS_ENABLED');
  });

  it('requires ADMIN_TOKEN when faults are enabled', () => {
    const error = configError(() => loadConfig(baseConfigSchema, { FAULTS_ENABLED: 'true' }));
    expect(error.message).toBe('Invalid configuration: ADMIN_TOKEN is required when FAULTS_ENABLED=true');
  });

  it('never echoes the value of a secret', () => {
    const error = configError(() => loadConfig(baseConfigSchema, { ADMIN_TOKEN: 'short' }));
    expect(error.message).toContain('ADMIN_TOKEN');
    expect(error.message).not.toContain('short');
  });

  it('checks variables that only make sense together', () => {
    expect(configError(() => loadConfig(baseConfigSchema, { FAULT_FLAP_PERIOD_MS: '1000' })).message).toContain('FAULT_FLAP_DUTY_CYCLE');
    expect(configError(() => loadConfig(baseConfigSchema, { FAULT_HANG: 'true', FAULT_RESET: 'true' })).message).toContain('FAULT_RESET');
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig(baseConfigSchema, { PORT: '', LOG_LEVEL: '' })).toMatchObject({ PORT: 3000, LOG_LEVEL: 'info' });
  });

  it('lets a service extend the base schema, keeping the base checks', () => {
    const schema = defineConfigSchema({ PORT: portVar(3001), DECLINE_TOKEN: z.string().default('tok_decline'), INVENTORY_URL: z.url() });
    const port: number = loadConfig(schema, { INVENTORY_URL: 'http://x' }).PORT; // typed
    expect(port).toBe(3001);
    const config = loadConfig(schema, { INVENTORY_URL: 'http://inventory:3002' });
    expect(config).toMatchObject({ PORT: 3001, DECLINE_TOKEN: 'tok_decline', INVENTORY_URL: 'http://inventory:3002' });
    expect(configError(() => loadConfig(schema, {})).message).toBe('Invalid configuration: INVENTORY_URL is required');
    expect(configError(() => loadConfig(schema, { INVENTORY_URL: 'http://x', FAULTS_ENABLED: 'true' })).message).toContain('ADMIN_TOKEN');
  });
});

describe('loadConfigOrExit', () => {
  it('prints the message and exits with 1 on a bad config', () => {
    const write = jest.fn();
    const exit = jest.fn();
    expect(() => loadConfigOrExit(baseConfigSchema, { env: { PORT: '-1' }, write, exit })).toThrow(ConfigError);
    expect(write).toHaveBeenCalledWith(expect.stringMatching(/^Invalid configuration: PORT .*\n$/));
    expect(exit).toHaveBeenCalledWith(1);
  });

  it('returns the config when it is valid', () => {
    const exit = jest.fn();
    expect(loadConfigOrExit(baseConfigSchema, { env: { PORT: '4000' }, exit }).PORT).toBe(4000);
    expect(exit).not.toHaveBeenCalled();
  });
});
