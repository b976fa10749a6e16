#!/usr/bin/env node
/**
 * Throughput of @checkout/messaging against the RabbitMQ at AMQP_URL (not a test; numbers depend
 * on the machine). Run from the repo root:  npm run bench:messaging
 *
 *  - publish: confirmed publishes per second through `publish()` (persistent, mandatory, each
 *    awaited until the broker's confirm), with W publishes in flight at once (the confirm window).
 *  - consume: messages consumed, handled (no-op handler) and acked per second by the retrying
 *    consumer, with prefetch P, from a queue filled beforehand.
 * Each setting runs ROUNDS times on quorum and on classic queues; the table shows the medians.
 * Results are also written to bench-results/messaging.json at the repo root.
 */
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { connect } = require('../dist');

const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SCALE = Number(process.env.BENCH_SCALE ?? 1); // shrink for a smoke run
const QUEUE_TYPES = ['quorum', 'classic'];
const PUBLISH_WINDOWS = [
  { window: 1, messages: 1_000 },
  { window: 16, messages: 5_000 },
  { window: 128, messages: 10_000 },
];
const PREFETCHES = [
  { prefetch: 1, messages: 2_000 },
  { prefetch: 10, messages: 5_000 },
  { prefetch: 100, messages: 10_000 },
];
const ROOT = path.resolve(__dirname, '../../..');
const OUT = path.join(ROOT, 'bench-results', 'messaging.json');

/** A payment-retry message of realistic size (~230 bytes of JSON). */
function payload(i) {
  return {
    orderId: `ord_${i.toString().padStart(10, '0')}`,
    customerId: 'cus_0000001234',
    amount: 12_999,
    currency: 'EUR',
    paymentToken: 'tok_visa_4242424242424242',
    reservationId: `res_${i}`,
    acceptedAt: '2026-01-01T00:00:00.000Z',
  };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function publishMany(mq, count, window, tag) {
  let next = 0;
  const workers = Array.from({ length: Math.min(window, count) }, async () => {
    while (next < count) {
      const i = next++;
      await mq.publish(payload(i), { messageId: `${tag}-${i}`, correlationId: `bench-${i}` });
    }
  });
  await Promise.all(workers);
}

async function purge(mq) {
  await mq.withChannel(async (ch) => {
    await ch.purgeQueue(mq.names.workQueue);
  });
}

async function waitUntil(predicate, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('bench: timed out');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

async function benchPublish(mq, window, messages, round) {
  await purge(mq);
  const started = process.hrtime.bigint();
  await publishMany(mq, messages, window, `p${window}-${round}`);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { ms, rate: (messages / ms) * 1000 };
}

async function benchConsume(mq, prefetch, messages, round) {
  await purge(mq);
  await publishMany(mq, messages, 128, `c${prefetch}-${round}`);
  let handled = 0;
  const started = process.hrtime.bigint();
  const consumer = await mq.consume(() => {
    handled++;
  }, { prefetch });
  await waitUntil(() => consumer.stats().handled >= messages, 120_000);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  await consumer.close();
  const left = (await mq.queueDepths()).work.messages;
  if (left !== 0 || handled !== messages) throw new Error(`bench: ${left} messages left, ${handled}/${messages} handled`);
  return { ms, rate: (messages / ms) * 1000 };
}

function amqplibVersion() {
  // amqplib's exports map hides package.json; read it next to its entry point.
  let dir = path.dirname(require.resolve('amqplib'));
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
}

function fmt(n) {
  return Math.round(n).toLocaleString('en-US');
}

async function main() {
  const results = [];
  let broker = null;
  for (const queueType of QUEUE_TYPES) {
    const mq = await connect(AMQP_URL, {
      prefix: `bench-${process.pid}-${Date.now()}.`,
      queueType,
      tiers: ['1m'],
      confirmTimeoutMs: 30_000,
      connectionName: 'messaging-bench',
      signal: AbortSignal.timeout(15_000), // bounds the first connection only
    });
    try {
      if (!broker) {
        broker = await mq.withChannel(async (ch) => {
          const p = ch.connection.serverProperties;
          return { product: String(p.product), version: String(p.version) };
        });
      }
      for (const { window, messages: base } of PUBLISH_WINDOWS) {
        const messages = Math.max(10, Math.round(base * SCALE));
        await benchPublish(mq, window, Math.min(messages, 200), 'warmup');
        const rounds = [];
        for (let r = 0; r < ROUNDS; r++) rounds.push(await benchPublish(mq, window, messages, r));
        const row = { queueType, operation: 'publish (confirmed)', setting: `window ${window}`, window, prefetch: null, messages, rounds: rounds.map((x) => Math.round(x.rate)), median: Math.round(median(rounds.map((x) => x.rate))) };
        results.push(row);
        console.error(`  ${queueType} ${row.operation} ${row.setting}: ${fmt(row.median)} msg/s (rounds ${row.rounds.map(fmt).join(', ')})`);
      }
      for (const { prefetch, messages: base } of PREFETCHES) {
        const messages = Math.max(10, Math.round(base * SCALE));
        const rounds = [];
        for (let r = 0; r < ROUNDS; r++) rounds.push(await benchConsume(mq, prefetch, messages, r));
        const row = { queueType, operation: 'consume + ack', setting: `prefetch ${prefetch}`, window: null, prefetch, messages, rounds: rounds.map((x) => Math.round(x.rate)), median: Math.round(median(rounds.map((x) => x.rate))) };
        results.push(row);
        console.error(`  ${queueType} ${row.operation} ${row.setting}: ${fmt(row.median)} msg/s (rounds ${row.rounds.map(fmt).join(', ')})`);
      }
    } finally {
      await mq.deleteTopology().catch((e) => console.error('bench: cleanup failed:', e.message));
      await mq.close();
    }
  }

  const header = '| queue type | operation | setting | messages/round | median msg/s | rounds (msg/s) |';
  const lines = [header, '|---|---|---|---:|---:|---|'];
  for (const r of results) {
    lines.push(`| ${r.queueType} | ${r.operation} | ${r.setting} | ${fmt(r.messages)} | ${fmt(r.median)} | ${r.rounds.map(fmt).join(', ')} |`);
  }
  const cpu = os.cpus();
  const report = {
    benchmark: '@checkout/messaging',
    command: 'npm run bench:messaging',
    date: new Date().toISOString(),
    node: process.version,
    amqplib: amqplibVersion(),
    broker,
    host: { cpus: cpu.length, model: cpu[0] ? cpu[0].model : 'unknown', platform: `${os.platform()} ${os.release()}` },
    rounds: ROUNDS,
    messageBytes: Buffer.byteLength(JSON.stringify(payload(0))),
    notes: 'publish: persistent + mandatory, each awaited until the broker confirm, W in flight. consume: retrying consumer, no-op handler, manual ack, prefetch P, queue pre-filled.',
    results,
  };
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\n@checkout/messaging throughput — ${broker.product} ${broker.version}, node ${process.version}, ${cpu.length} CPU (${report.host.model}), ${ROUNDS} rounds, ${report.messageBytes}-byte JSON messages\n`);
  console.log(lines.join('\n'));
  console.log(`\nwritten to ${path.relative(process.cwd(), OUT) || OUT}`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
