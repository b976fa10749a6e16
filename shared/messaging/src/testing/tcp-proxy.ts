import * as net from 'node:net';

/**
 * A TCP proxy a test controls, to break the network between client and broker:
 * `cut()` resets every open connection, `down()` also refuses new ones until `up()`,
 * `freeze()` silently drops all bytes both ways (a partition: nothing answers, nothing fails)
 * until `thaw()`.
 */
export class TcpProxy {
  readonly #server = net.createServer((client) => this.#onClient(client));
  readonly #sockets = new Set<net.Socket>();
  #mode: 'up' | 'down' | 'frozen' = 'up';
  #port = 0;
  connections = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  static forUrl(url: string): TcpProxy {
    const u = new URL(url);
    return new TcpProxy(u.hostname, Number(u.port || 5672));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, '127.0.0.1', () => resolve());
    });
    this.#port = (this.#server.address() as net.AddressInfo).port;
    return this;
  }

  get port(): number {
    return this.#port;
  }

  /** The same URL as `brokerUrl`, pointed at the proxy. */
  url(brokerUrl: string): string {
    const u = new URL(brokerUrl);
    u.hostname = '127.0.0.1';
    u.port = String(this.#port);
    return u.toString();
  }

  get openSockets(): number {
    return this.#sockets.size;
  }

  cut(): void {
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
  }

  down(): void {
    this.#mode = 'down';
    this.cut();
  }

  up(): void {
    this.#mode = 'up';
  }

  freeze(): void {
    this.#mode = 'frozen';
  }

  thaw(): void {
    this.#mode = 'up';
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #onClient(client: net.Socket): void {
    if (this.#mode === 'down') {
      client.destroy();
      return;
    }
    this.connections++;
    const upstream = net.connect(this.targetPort, this.targetHost);
    this.#sockets.add(client);
    this.#sockets.add(upstream);
    const forward = (to: net.Socket) => (chunk: Buffer) => {
      if (this.#mode === 'up' && !to.destroyed) to.write(chunk);
      // frozen: dropped, as in a partition
    };
    client.on('data', forward(upstream));
    upstream.on('data', forward(client));
    const close = (): void => {
      client.destroy();
      upstream.destroy();
      this.#sockets.delete(client);
      this.#sockets.delete(upstream);
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
  }
}

/** A port on which nothing listens (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
