import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import * as amqp from 'amqplib';
import { connect, type MessagingConnection } from '../connection';
import type { MessagingOptions } from '../options';
import { countParked, peekParked } from '../parking';
import { topologyNames, type TopologyNames } from '../topology';
import { resolveTiers } from '../options';

export const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** Polls `probe` until it returns something truthy; fails with `message` (and the last value) after the deadline. */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  { timeoutMs = 5_000, intervalMs = 10, message = 'condition' }: { timeoutMs?: number; intervalMs?: number; message?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      last = await probe();
      if (last) return last as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const detail = lastError ? ` (last error: ${(lastError as Error).message})` : ` (last value: ${JSON.stringify(last)})`;
      throw new Error(`waitFor: ${message} not met within ${timeoutMs} ms${detail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A promise with its resolver outside, to hold handlers at a point the test chooses. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

export const TEST_TIERS = ['40ms', '80ms', '120ms'] as const;

/**
 * One test's world: its own name prefix, the connections it opened (closed afterwards), an
 * admin connection outside the library (raw publishes, checks) and teardown of its topology.
 */
export class Harness {
  readonly prefix: string;
  readonly names: TopologyNames;
  readonly #connections: MessagingConnection[] = [];
  #admin: amqp.ChannelModel | undefined;
  #adminChannel: amqp.ConfirmChannel | undefined;

  constructor(
    label: string,
    readonly tiers: readonly string[] = TEST_TIERS,
  ) {
    this.prefix = `test-${label}-${process.pid}-${randomBytes(3).toString('hex')}.`;
    this.names = topologyNames(this.prefix, resolveTiers(tiers));
  }

  options(extra: MessagingOptions = {}): MessagingOptions {
    return {
      prefix: this.prefix,
      tiers: this.tiers,
      heartbeatSeconds: 2,
      connectTimeoutMs: 1_000,
      confirmTimeoutMs: 2_000,
      reconnect: { initialMs: 20, maxMs: 200 },
      connectionName: `${this.prefix}conn-${this.#connections.length}`,
      ...extra,
    };
  }

  async connect(extra: MessagingOptions = {}, url = AMQP_URL): Promise<MessagingConnection> {
    const mq = await connect(url, this.options(extra));
    this.#connections.push(mq);
    return mq;
  }

  /** For connections made without `connect` (e.g. waitForConnect: false): closed at teardown. */
  track(mq: MessagingConnection): MessagingConnection {
    this.#connections.push(mq);
    return mq;
  }

  async admin(): Promise<amqp.ConfirmChannel> {
    if (!this.#adminChannel) {
      this.#admin = await amqp.connect(AMQP_URL);
      this.#admin.on('error', () => {});
      this.#adminChannel = await this.#admin.createConfirmChannel();
      this.#adminChannel.on('error', () => {});
    }
    return this.#adminChannel;
  }

  /** Publishes bytes straight to the work exchange, bypassing the library (malformed input). */
  async rawPublish(content: string | Buffer, properties: amqp.Options.Publish = {}): Promise<void> {
    const channel = await this.admin();
    channel.publish(this.names.workExchange, this.names.workRoutingKey, Buffer.from(content), { persistent: true, ...properties });
    await channel.waitForConfirms();
  }

  async ready(queue: string): Promise<number> {
    return (await (await this.admin()).checkQueue(queue)).messageCount;
  }

  /** Ready messages in every queue of the topology. */
  async depths(): Promise<{ work: number; parking: number; delays: number }> {
    let delays = 0;
    for (const tier of this.names.delayQueues) delays += await this.ready(tier.queue);
    return { work: await this.ready(this.names.workQueue), parking: await this.ready(this.names.parkingQueue), delays };
  }

  /** Ids of every parked message (left in place). */
  async parkedIds(mq: MessagingConnection): Promise<Array<string | undefined>> {
    const parked = await peekParked(mq, { limit: Math.max(1, await countParked(mq)) });
    return parked.map((p) => p.messageId);
  }

  /**
   * Consumes whatever is left in the work queue on a fresh connection, recording each delivery in
   * `ledger`, until `expected` ids are handled; then closes it gracefully and checks that no queue
   * of the topology holds a message any more. Lets publisher-only tests close their count
   * (published = handled + parked).
   */
  async drain(ledger: Ledger, expected: number): Promise<void> {
    const mq = await this.connect();
    await mq.consume((_body, ctx) => {
      ledger.handle(ctx.messageId);
    });
    await waitFor(() => ledger.handled.size >= expected, { message: `${expected} handled by the draining consumer` });
    await mq.close();
    const depths = await this.depths();
    if (depths.work !== 0 || depths.parking !== 0 || depths.delays !== 0) throw new Error(`drain: messages left ${JSON.stringify(depths)}`);
  }

  async teardown(): Promise<void> {
    await Promise.all(this.#connections.map((mq) => mq.close({ timeoutMs: 2_000 }).catch(() => {})));
    if (!this.#admin) await this.admin();
    const channel = this.#adminChannel as amqp.ConfirmChannel;
    for (const queue of [this.names.workQueue, ...this.names.delayQueues.map((t) => t.queue), this.names.parkingQueue]) {
      await channel.deleteQueue(queue);
    }
    await channel.deleteExchange(this.names.workExchange);
    await channel.deleteExchange(this.names.delayExchange);
    await this.#admin?.close().catch(() => {});
  }
}

/**
 * The ledger of one test: what was published (confirmed), handled (handler succeeded) and parked.
 * Delivery is at-least-once, so a message may be handled twice after a connection cut; the
 * invariant is on ids: every confirmed id ends up handled or parked, never both, never neither.
 */
export class Ledger {
  readonly published = new Set<string>();
  readonly handled = new Map<string, number>();
  readonly attempts = new Map<string, number[]>();

  attempt(id: string, retryCount: number): void {
    const list = this.attempts.get(id) ?? [];
    list.push(retryCount);
    this.attempts.set(id, list);
  }

  handle(id: string): void {
    this.handled.set(id, (this.handled.get(id) ?? 0) + 1);
  }

  get handledOnce(): boolean {
    return [...this.handled.values()].every((n) => n === 1);
  }

  get duplicates(): number {
    return [...this.handled.values()].reduce((sum, n) => sum + n - 1, 0);
  }

  /** published = handled + parked, as id sets. */
  account(parkedIds: readonly (string | undefined)[]): { published: number; handled: number; parked: number; missing: string[]; both: string[]; unknown: string[] } {
    const parked = new Set(parkedIds.filter((id): id is string => id !== undefined));
    const missing = [...this.published].filter((id) => !this.handled.has(id) && !parked.has(id));
    const both = [...this.published].filter((id) => this.handled.has(id) && parked.has(id));
    const unknown = [...this.handled.keys(), ...parked].filter((id) => !this.published.has(id));
    return { published: this.published.size, handled: this.handled.size, parked: parked.size, missing, both, unknown };
  }
}

const execFileAsync = promisify(execFile);

/** Closes, from the broker side, the connection whose client property connection_name is `name`. */
export async function closeConnectionFromBroker(name: string): Promise<void> {
  const { stdout } = await execFileAsync('rabbitmqctl', ['list_connections', '-q', '--no-table-headers', 'pid', 'client_properties']);
  const line = stdout.split('\n').find((l) => l.includes(`{"connection_name","${name}"}`));
  if (!line) throw new Error(`no broker connection named ${name}`);
  const pid = line.split('\t')[0] as string;
  await execFileAsync('rabbitmqctl', ['close_connection', pid, 'closed by test']);
}
