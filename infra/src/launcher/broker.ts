import net from 'node:net';
import tls from 'node:tls';

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '(an invalid URL)';
  }
}

export type BrokerCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** AMQP 0-9-1 protocol header: a broker answers it with a Connection.Start method frame. */
const PROTOCOL_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]);
const METHOD_FRAME = 1;

/**
 * Does an AMQP 0-9-1 broker answer at `url`? Sends the protocol header and waits for the
 * first frame (Connection.Start), then hangs up: a port that merely accepts TCP is not enough.
 */
export function checkBroker(url: string, timeoutMs = 3_000): Promise<BrokerCheck> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return Promise.resolve({ ok: false, reason: 'AMQP_URL is not a valid URL' });
  }
  if (parsed.protocol !== 'amqp:' && parsed.protocol !== 'amqps:') {
    return Promise.resolve({ ok: false, reason: `AMQP_URL must start with amqp:// or amqps:// (got ${parsed.protocol}//)` });
  }
  const secure = parsed.protocol === 'amqps:';
  const host = parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = parsed.port === '' ? (secure ? 5671 : 5672) : Number(parsed.port);
  return new Promise<BrokerCheck>((resolve) => {
    const socket = secure ? tls.connect({ host, port, servername: host }) : net.connect({ host, port });
    const done = (result: BrokerCheck): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done({ ok: false, reason: `no answer within ${timeoutMs} ms` }), timeoutMs);
    socket.once(secure ? 'secureConnect' : 'connect', () => socket.write(PROTOCOL_HEADER));
    socket.once('data', (data: Buffer) =>
      done(data[0] === METHOD_FRAME ? { ok: true } : { ok: false, reason: 'something answers there, but it does not speak AMQP 0-9-1' }),
    );
    socket.once('error', (error: NodeJS.ErrnoException) => done({ ok: false, reason: error.code ?? error.message }));
    socket.once('close', () => done({ ok: false, reason: 'the connection was closed without an answer' }));
  });
}

export function brokerHelp(url: string, reason: string): string {
  return [
    `RabbitMQ does not answer at ${redactUrl(url)} (${reason}).`,
    'Checkout needs it for the payment-retry queue. Start one, then run `npm start` again:',
    '  docker compose up -d rabbitmq     RabbitMQ in a container (AMQP on 5672, management UI on 15672)',
    '  rabbitmq-server -detached         a local installation (apt-get install rabbitmq-server)',
    'or point AMQP_URL at a broker you have:  AMQP_URL=amqp://user:password@host:5672 npm start',
  ].join('\n');
}
