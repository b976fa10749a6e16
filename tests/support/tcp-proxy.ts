/**
 * A TCP proxy the tests control, put between a service and RabbitMQ (or anything else on TCP):
 * the service's AMQP_URL points at the proxy, the proxy forwards every connection to the target.
 * The test can then cut the link the way a network or a broker outage does, without touching the
 * machine's real RabbitMQ (which is shared):
 *
 * - `drop()`: every open connection is reset (RST to the client, the upstream side closed, which
 *   the broker sees as a vanished client);
 * - `refuse()`: drops everything and closes the listener, so that new connections are refused
 *   (ECONNREFUSED, as when nothing listens on the broker's port);
 * - `accept()`: listens again, on the same port, and forwards as before;
 * - `freeze()`: the open connections stay up, the client's bytes still reach the broker, but
 *   nothing the broker sends reaches the client any more (confirms, heartbeats: a link that died
 *   one way). New connections are not affected; `drop()` ends the frozen ones.
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

export interface ProxyStats {
  /** Connections accepted and forwarded since the start. */
  accepted: number;
  /** Connections reset by `drop()`/`refuse()`. */
  dropped: number;
  /** Connections open now. */
  open: number;
  /** Connections whose upstream connect failed (the client is reset). */
  upstreamFailures: number;
}

export class TcpProxy {
  readonly #targetHost: string;
  readonly #targetPort: number;
  readonly #pairs = new Set<{ client: Socket; upstream: Socket }>();
  #server: Server;
  #port = 0;
  #listening = false;
  #stats = { accepted: 0, dropped: 0, upstreamFailures: 0 };

  private constructor(targetHost: string, targetPort: number) {
    this.#targetHost = targetHost;
    this.#targetPort = targetPort;
    this.#server = this.#newServer();
  }

  /** Starts listening on a free port of 127.0.0.1 (or, with `refusing`, only picks one and refuses until `accept()`). */
  static async start(target: { host?: string; port?: number } = {}, options: { refusing?: boolean } = {}): Promise<TcpProxy> {
    const proxy = new TcpProxy(target.host ?? '127.0.0.1', target.port ?? 5672);
    await proxy.#listenOnStablePort();
    if (options.refusing) await proxy.refuse();
    return proxy;
  }

  /**
   * A port below the kernel's ephemeral range (32768–60999 on Linux): while the proxy refuses
   * (nothing listens), an ephemeral port could be handed to any outgoing connection on the
   * machine as its local port, and listening on it again would then fail (EADDRINUSE).
   */
  async #listenOnStablePort(): Promise<void> {
    let last: unknown;
    for (let attempt = 0; attempt < 50; attempt += 1) {
      const port = 20_000 + Math.floor(Math.random() * 12_000);
      try {
        await this.#listen(port);
        return;
      } catch (error) {
        last = error;
        this.#server = this.#newServer();
      }
    }
    throw last;
  }

  /** A proxy in front of the broker of `amqpUrl` (its host and port). */
  static forAmqp(amqpUrl: string, options: { refusing?: boolean } = {}): Promise<TcpProxy> {
    const url = new URL(amqpUrl);
    return TcpProxy.start({ host: url.hostname, port: Number(url.port || 5672) }, options);
  }

  get port(): number {
    return this.#port;
  }

  get listening(): boolean {
    return this.#listening;
  }

  stats(): ProxyStats {
    return { ...this.#stats, open: this.#pairs.size };
  }

  /** `url` with its host and port replaced by the proxy's (credentials, vhost and query kept). */
  urlFor(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.#port);
    return parsed.toString();
  }

  /** Resets every open connection; new ones are still accepted (unless refusing). Returns how many were cut. */
  drop(): number {
    const pairs = [...this.#pairs];
    for (const pair of pairs) this.#reset(pair);
    this.#stats.dropped += pairs.length;
    return pairs.length;
  }

  /** Stops forwarding what the broker sends on every open connection (see the top). Returns how many were frozen. */
  freeze(): number {
    for (const { client, upstream } of this.#pairs) {
      upstream.unpipe(client);
      upstream.pause();
    }
    return this.#pairs.size;
  }

  /** Drops every connection and stops listening: new connections are refused until `accept()`. */
  async refuse(): Promise<void> {
    if (this.#listening) {
      this.#listening = false;
      const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      this.drop();
      await closed;
    } else {
      this.drop();
    }
  }

  /** Listens again on the same port. */
  async accept(): Promise<void> {
    if (this.#listening) return;
    this.#server = this.#newServer();
    await this.#listen(this.#port);
  }

  /** Drops everything and stops for good. */
  async close(): Promise<void> {
    await this.refuse();
  }

  #newServer(): Server {
    const server = createServer((client) => this.#forward(client));
    server.on('error', () => {}); // listen errors are reported by #listen
    return server;
  }

  async #listen(port: number): Promise<void> {
    // The port was ours a moment ago; should another process take it meanwhile, say so plainly.
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(new Error(`tcp proxy: cannot listen on 127.0.0.1:${port}: ${error.message}`));
      this.#server.once('error', onError);
      this.#server.listen({ port, host: '127.0.0.1' }, () => {
        this.#server.off('error', onError);
        resolve();
      });
    });
    const address = this.#server.address();
    this.#port = typeof address === 'object' && address !== null ? address.port : port;
    this.#listening = true;
  }

  #forward(client: Socket): void {
    if (!this.#listening) {
      client.resetAndDestroy();
      return;
    }
    this.#stats.accepted++;
    const upstream = tcpConnect({ host: this.#targetHost, port: this.#targetPort });
    const pair = { client, upstream };
    this.#pairs.add(pair);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.pipe(upstream);
    upstream.pipe(client);
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
    });
    const end = () => {
      if (!this.#pairs.delete(pair)) return;
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    client.on('close', end);
    upstream.on('error', () => {
      if (!connected) this.#stats.upstreamFailures++;
      if (this.#pairs.has(pair)) this.#reset(pair);
    });
    upstream.on('close', end);
  }

  #reset(pair: { client: Socket; upstream: Socket }): void {
    this.#pairs.delete(pair);
    pair.client.unpipe();
    pair.upstream.unpipe();
    if (!pair.client.destroyed) pair.client.resetAndDestroy();
    pair.upstream.destroy();
  }
}
