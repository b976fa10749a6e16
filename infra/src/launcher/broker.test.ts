import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { DEFAULT_AMQP_URL } from '../topology';
import { brokerHelp, checkBroker, redactUrl } from './broker';

describe('checkBroker', () => {
  test('a RabbitMQ answers (the one of this machine and of CI, at AMQP_URL)', async () => {
    await expect(checkBroker(process.env.AMQP_URL ?? DEFAULT_AMQP_URL)).resolves.toEqual({ ok: true });
  });

  test('nothing listening: the error code', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await expect(checkBroker(`amqp://127.0.0.1:${port}`)).resolves.toEqual({ ok: false, reason: 'ECONNREFUSED' });
  });

  test('a server that is not AMQP is not enough', async () => {
    const server = http.createServer((_req, res) => res.end('hello'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      await expect(checkBroker(`amqp://127.0.0.1:${port}`)).resolves.toEqual({ ok: false, reason: 'something answers there, but it does not speak AMQP 0-9-1' });
    } finally {
      server.close();
    }
  });

  test('a server that never answers: a timeout', async () => {
    const server = net.createServer(() => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      await expect(checkBroker(`amqp://127.0.0.1:${port}`, 200)).resolves.toEqual({ ok: false, reason: 'no answer within 200 ms' });
    } finally {
      server.close();
    }
  });

  test('bad URLs', async () => {
    await expect(checkBroker('not a url')).resolves.toMatchObject({ ok: false, reason: 'AMQP_URL is not a valid URL' });
    await expect(checkBroker('http://127.0.0.1:5672')).resolves.toMatchObject({ ok: false, reason: expect.stringContaining('amqp://') });
  });
});

describe('messages', () => {
  test('never show the password', () => {
    expect(redactUrl('amqp://user:secret@broker:5672')).toBe('amqp://user:***@broker:5672');
    expect(brokerHelp('amqp://user:secret@broker:5672', 'ECONNREFUSED')).not.toContain('secret');
  });

  test('say how to start a broker', () => {
    const help = brokerHelp(DEFAULT_AMQP_URL, 'ECONNREFUSED');
    expect(help).toContain('RabbitMQ does not answer at amqp://guest:***@127.0.0.1:5672 (ECONNREFUSED)');
    expect(help).toContain('docker compose up -d rabbitmq');
    expect(help).toContain('rabbitmq-server');
  });
});
