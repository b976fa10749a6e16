import supertest from 'supertest';
import { z } from 'zod';
import { createApp } from './app';
import { type BaseConfig, defineConfigSchema, loadConfig, portVar } from './config';
import { validate } from './validate';
import { memoryLogger, testApp, testConfig } from './support.test.util';

describe('createApp: request ids', () => {
  const app = testApp().app;

  it('accepts a sane X-Request-Id and echoes it', async () => {
    const res = await supertest(app).get('/later').set('X-Request-Id', 'abc-123.DEF:9_z');
    expect(res.status).toBe(200);
    expect(res.headers['x-request-id']).toBe('abc-123.DEF:9_z');
    // Kept in AsyncLocalStorage across awaits.
    expect(res.body).toEqual({ requestId: 'abc-123.DEF:9_z' });
  });

  it('makes one when there is none', async () => {
    const res = await supertest(app).get('/later');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.requestId).toBe(res.headers['x-request-id']);
  });

  it.each([['a'.repeat(129)], ['has space'], ['new\\nline'], ['<script>'], ['']])('replaces an unsafe id %p', async (id) => {
    const res = await supertest(app).get('/later').set('X-Request-Id', id);
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('keeps the id after the JSON body was parsed (and in log lines)', async () => {
    const { logger, lines } = memoryLogger();
    const res = await supertest(testApp({ logger }).app).post('/items').set('X-Request-Id', 'req-body-1').send({ name: 'pen', quantity: 2 });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ name: 'pen', quantity: 2, requestId: 'req-body-1' });
    expect(lines.find((line) => line.message === 'item created')).toMatchObject({ requestId: 'req-body-1', service: 'test' });
  });
});

describe('createApp: headers', () => {
  it('sends security headers and no X-Powered-By on every answer', async () => {
    const app = testApp().app;
    for (const path of ['/items/1', '/nowhere', '/health/live', '/metrics']) {
      const res = await supertest(app).get(path);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('lets a service choose its Content-Security-Policy', async () => {
    const res = await supertest(testApp({ contentSecurityPolicy: "default-src 'self'" }).app).get('/items/1');
    expect(res.headers['content-security-policy']).toBe("default-src 'self'");
  });
});

describe('createApp: errors are JSON and never 500 for bad input', () => {
  const app = testApp().app;

  it('answers 400 with every invalid field', async () => {
    const res = await supertest(app).post('/items').set('X-Request-Id', 'r-400').send({ name: '', quantity: 0.5, extra: true });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: 'VALIDATION_FAILED',
      message: 'Invalid body',
      requestId: 'r-400',
      fields: [
        { path: 'name', message: expect.any(String) },
        { path: 'quantity', message: expect.any(String) },
      ],
    });
  });

  it('answers 400 when the body is missing', async () => {
    const res = await supertest(app).post('/items');
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('VALIDATION_FAILED');
  });

  it('answers 400 to malformed JSON', async () => {
    const res = await supertest(app).post('/items').set('Content-Type', 'application/json').send('{"name": "pen",');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'MALFORMED_JSON', message: 'The request body is not valid JSON' });
  });

  it('answers 413 to a body over the limit', async () => {
    const res = await supertest(app)
      .post('/items')
      .send({ name: 'x'.repeat(101 * 1024), quantity: 1 });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ error: 'PAYLOAD_TOO_LARGE' });
  });

  it('follows BODY_LIMIT', async () => {
    const small = testApp({ config: testConfig({ BODY_LIMIT: '1kb' }) }).app;
    expect((await supertest(small).post('/items').send({ name: 'x'.repeat(2000), quantity: 1 })).status).toBe(413);
    expect((await supertest(small).post('/items').send({ name: 'x', quantity: 1 })).status).toBe(201);
  });

  it('answers 415 to a body that is not JSON', async () => {
    const res = await supertest(app).post('/items').set('Content-Type', 'text/plain').send('name=pen');
    expect(res.status).toBe(415);
    expect(res.body).toMatchObject({ error: 'UNSUPPORTED_MEDIA_TYPE' });
  });

  it('answers 404 as JSON', async () => {
    const res = await supertest(app).get('/nowhere');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: 'NOT_FOUND', message: 'No route for GET /nowhere' });
  });

  it('turns an HttpError into its status, code and details', async () => {
    const res = await supertest(app).get('/conflict');
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error: 'ALREADY_EXISTS', message: 'That item exists', itemId: 'i1' });
  });

  it('answers 500 without stack or internals, and logs them', async () => {
    const { logger, lines } = memoryLogger();
    const res = await supertest(testApp({ logger }).app).get('/boom').set('X-Request-Id', 'r-500');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: 'INTERNAL', message: 'Internal server error', requestId: 'r-500' });
    expect(res.text).not.toMatch(/hunter2|db\.ts|at /);
    expect(lines.find((line) => line.message === 'request failed')).toMatchObject({
      requestId: 'r-500',
      status: 500,
      error: { message: expect.stringContaining('hunter2'), stack: expect.any(String) },
    });
  });

  it('answers 400 to an undecodable path parameter', async () => {
    const res = await supertest(app).get('/items/%E0%A4%A');
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('BAD_REQUEST');
  });

  it('validate() also works on queries', async () => {
    const service = createApp({
      name: 'q',
      config: testConfig(),
      routes: (router) =>
        router.get('/search', (req, res) => {
          res.json(validate(z.object({ limit: z.coerce.number().int().max(100) }), req.query, 'query'));
        }),
    });
    expect((await supertest(service.app).get('/search?limit=5')).body).toEqual({ limit: 5 });
    const bad = await supertest(service.app).get('/search?limit=500');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ message: 'Invalid query', fields: [{ path: 'limit' }] });
  });
});

describe('createApp: health', () => {
  it('/health/live answers 200 whatever the readiness checks say', async () => {
    const service = testApp();
    service.addReadinessCheck('broker', () => false);
    const res = await supertest(service.app).get('/health/live');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ok');
  });

  it('/health/ready is 200 when every check passes, with their details', async () => {
    const service = testApp();
    service.addReadinessCheck('broker', () => ({ ok: true, details: { channel: 'open' } }));
    service.addReadinessCheck('catalog', async () => true);
    const res = await supertest(service.app).get('/health/ready');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: 'ready',
      checks: { broker: { ok: true, details: { channel: 'open' } }, catalog: { ok: true } },
      circuits: {},
    });
  });

  it('/health/ready is 503 when a check fails or throws', async () => {
    const service = testApp();
    service.addReadinessCheck('broker', () => ({ ok: false, details: { channel: 'closed' } }));
    service.addReadinessCheck('db', () => {
      throw new Error('not connected');
    });
    const res = await supertest(service.app).get('/health/ready');
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({
      status: 'not_ready',
      checks: { broker: { ok: false, details: { channel: 'closed' } }, db: { ok: false, error: 'not connected' } },
    });
  });

  it('a check that never answers fails after its timeout instead of hanging readiness', async () => {
    const service = testApp({ readinessCheckTimeoutMs: 20 });
    service.addReadinessCheck('stuck', () => new Promise<boolean>(() => undefined));
    const res = await supertest(service.app).get('/health/ready');
    expect(res.status).toBe(503);
    expect(res.body.checks.stuck).toEqual({ ok: false, error: 'check timed out after 20 ms' });
  });

  it('removing a check removes it from the report', async () => {
    const service = testApp();
    const remove = service.addReadinessCheck('broker', () => false);
    remove();
    expect((await supertest(service.app).get('/health/ready')).status).toBe(200);
  });
});

describe('createApp: configuration', () => {
  it('accepts a service config that extends the base one', () => {
    const schema = defineConfigSchema({ PORT: portVar(3002), STOCK: z.coerce.number().default(100) });
    const config = loadConfig(schema, { LOG_LEVEL: 'silent' });
    const service = createApp({ name: 'inventory', config });
    const base: BaseConfig = service.config;
    expect(service.config.STOCK).toBe(100);
    expect(base.PORT).toBe(3002);
  });

  it('does not mount the fault admin routes when faults are disabled', async () => {
    const service = testApp({ config: testConfig({ FAULT_ERROR_RATE: '1' }) });
    expect(service.faults).toBeUndefined();
    expect((await supertest(service.app).get('/admin/faults')).status).toBe(404);
    expect((await supertest(service.app).get('/items/1')).status).toBe(200);
  });
});
