import { runWithRequestId } from './context';
import { REDACTED } from './logger';
import { memoryLogger } from './support.test.util';

describe('createLogger', () => {
  it('writes JSON with service, level, timestamp and message', () => {
    const { logger, lines } = memoryLogger('payment');
    logger.info('charge accepted', { orderId: 'o-1' });
    expect(lines).toEqual([
      { level: 'info', message: 'charge accepted', service: 'payment', orderId: 'o-1', timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
    ]);
  });

  it('skips the formatting of lines below its level, and follows a level changed later', () => {
    const { logger, lines } = memoryLogger('payment', 'info');
    let reads = 0;
    const meta = {
      get orderId() {
        reads += 1; // read by the redacting copy: only when the line is formatted
        return 'o-1';
      },
    };
    logger.debug('not written', meta);
    expect(reads).toBe(0);
    expect(lines).toEqual([]);
    logger.level = 'debug';
    logger.debug('written', meta);
    expect(reads).toBeGreaterThan(0);
    expect(lines).toEqual([expect.objectContaining({ level: 'debug', message: 'written', orderId: 'o-1' })]);
    expect(logger.child({ component: 'c' }).debug('from a child')).toBeDefined();
    expect(lines).toHaveLength(2);
  });

  it('adds the request id of the current request', async () => {
    const { logger, lines } = memoryLogger();
    await runWithRequestId('req-42', async () => {
      await Promise.resolve();
      logger.warn('inside');
    });
    logger.warn('outside');
    expect(lines[0]).toMatchObject({ message: 'inside', requestId: 'req-42' });
    expect(lines[1]).not.toHaveProperty('requestId');
  });

  it('redacts tokens, secrets and passwords at any depth', () => {
    const { logger, lines } = memoryLogger();
    const meta = {
      paymentToken: 'tok_visa',
      headers: { Authorization: 'Bearer abc', 'x-request-id': 'r1' },
      user: { password: 'p', name: 'Ann', nested: [{ admin_token: 'secret-value', clientSecret: 'x' }] },
    };
    logger.info('call', meta);
    expect(lines[0]).toMatchObject({
      paymentToken: REDACTED,
      headers: { Authorization: REDACTED, 'x-request-id': 'r1' },
      user: { password: REDACTED, name: 'Ann', nested: [{ admin_token: REDACTED, clientSecret: REDACTED }] },
    });
    expect(JSON.stringify(lines[0])).not.toMatch(/tok_visa|abc|secret-value/);
    // The caller's object is left alone.
    expect(meta.headers.Authorization).toBe('Bearer abc');
  });

  it('keeps the name, message and stack of errors', () => {
    const { logger, lines } = memoryLogger();
    const error = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    logger.error('call failed', { error });
    expect(lines[0]!.error).toMatchObject({ name: 'Error', message: 'connect ECONNREFUSED', code: 'ECONNREFUSED', stack: expect.any(String) });
  });

  it('survives circular metadata', () => {
    const { logger, lines } = memoryLogger();
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    logger.info('circular', { a });
    expect(lines[0]!.a).toEqual({ name: 'a', self: '[Circular]' });
  });

  it('writes nothing at level silent', () => {
    const { createLogger } = jest.requireActual<typeof import('./logger')>('./logger');
    const logger = createLogger({ service: 's', level: 'silent' });
    expect(logger.silent).toBe(true);
  });
});
