import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chaosContext, runChaos } from './chaos/cli';
import { deleteQueues, freePort, health, launch, LAUNCHER, type Run, stopLauncher } from './launch.test.util';
import { readState } from './launcher/state';
import { repoFile } from './testing.test.util';
import { portVariable, TOPOLOGY } from './topology';

/**
 * `npm start` end to end: the compiled launcher (infra/dist/launcher.js, built by `tsc -b`)
 * runs the real services on free ports, with their own queue names; the chaos CLI kills
 * and starts one through the launcher's control server; SIGTERM stops everything.
 */

jest.setTimeout(60_000);

const PREFIX = `infra-launcher-test-${process.pid}.`;

describe('the launcher (npm start)', () => {
  let dir: string;
  const runs: Run[] = [];

  beforeAll(() => {
    const missing = [LAUNCHER, ...TOPOLOGY.map((spec) => repoFile(spec.workspace, spec.entry))].filter((file) => !existsSync(file));
    if (missing.length > 0) throw new Error(`build first (npx tsc -b): missing ${missing.join(', ')}`);
    dir = mkdtempSync(path.join(os.tmpdir(), 'launcher-test-'));
  });

  afterAll(async () => {
    for (const run of runs) await stopLauncher(run);
    rmSync(dir, { recursive: true, force: true });
    await deleteQueues(PREFIX);
  });

  test('runs every service, prints the addresses and the generated token once, and obeys the chaos CLI', async () => {
    const stateFile = path.join(dir, 'generated', 'launcher.json');
    const run = await launch({}, stateFile, PREFIX);
    runs.push(run);
    await run.waitFor('ready: every service answers /health/live');

    const state = readState(stateFile)!;
    expect(state.pid).toBe(run.child.pid);
    expect(statSync(stateFile).mode & 0o777).toBe(0o600);
    expect(state.adminToken).toMatch(/^[0-9a-f]{32}$/);
    expect(Object.keys(state.children ?? {}).sort()).toEqual(TOPOLOGY.map((spec) => spec.name).sort());
    expect(run.output().split(state.adminToken!).length - 1).toBe(1); // printed once
    const checkoutUrl = `http://127.0.0.1:${run.env.CHECKOUT_PORT}`;
    expect(run.output()).toContain(`checkout   ${checkoutUrl}\n`);
    expect(run.output()).toContain(`dashboard  ${checkoutUrl}/dashboard\n`);
    for (const spec of TOPOLOGY) if (spec.port !== null) expect(await health(`http://127.0.0.1:${run.env[portVariable(spec.name)]}`)).toBe(200);

    // The chaos CLI finds the launcher and its token through the state file.
    const chaosEnv = { LAUNCHER_STATE_FILE: stateFile };
    const io = { out: jest.fn(), err: jest.fn() };
    const paymentUrl = `http://127.0.0.1:${run.env.PAYMENT_PORT}`;
    await expect(runChaos(['kill', 'payment'], chaosEnv, io, chaosContext(chaosEnv))).resolves.toBe(0);
    await run.waitFor('✖ payment was killed (signal SIGKILL); it stays down');
    expect(await health(paymentUrl)).toBe('ECONNREFUSED');
    await expect(runChaos(['payment', 'down'], chaosEnv, io, chaosContext(chaosEnv))).resolves.toBe(1); // nobody there
    await expect(runChaos(['start', 'payment'], chaosEnv, io, chaosContext(chaosEnv))).resolves.toBe(0);
    for (let i = 0; i < 50 && (await health(paymentUrl)) !== 200; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await health(paymentUrl)).toBe(200);
    await expect(runChaos(['payment', 'errors', '0.5'], chaosEnv, io, chaosContext(chaosEnv))).resolves.toBe(0);
    expect(io.out).toHaveBeenLastCalledWith('payment: faults errors 50% (500)\n');
    // The stub's own (warn) log line, prefixed with its name.
    await run.waitFor(/^payment +\| \{.*"fault settings changed".*"service":"payment"/m, 5_000);

    run.child.kill('SIGTERM');
    await expect(run.exited).resolves.toBe(0);
    expect(run.output()).toContain('all stopped');
    expect(run.output()).not.toContain('exited by itself');
    expect(existsSync(stateFile)).toBe(false);
    for (const spec of TOPOLOGY) if (spec.port !== null) expect(await health(`http://127.0.0.1:${run.env[portVariable(spec.name)]}`)).toBe('ECONNREFUSED');
  });

  test('a token given in the environment is never printed nor stored', async () => {
    const token = 'token-from-the-environment-1234';
    const stateFile = path.join(dir, 'given', 'launcher.json');
    const run = await launch({ ADMIN_TOKEN: token }, stateFile, PREFIX);
    runs.push(run);
    await run.waitFor('ready: every service answers /health/live');
    expect(readState(stateFile)!.adminToken).toBeUndefined();
    run.child.kill('SIGINT');
    await expect(run.exited).resolves.toBe(0);
    expect(run.output()).not.toContain(token);
    expect(run.output()).toContain('admin token: the ADMIN_TOKEN of your environment');
  });

  test('without RabbitMQ: says how to start one and exits 1', async () => {
    const run = await launch({ AMQP_URL: `amqp://guest:secret@127.0.0.1:${await freePort()}` }, path.join(dir, 'none', 'launcher.json'), PREFIX);
    runs.push(run);
    await expect(run.exited).resolves.toBe(1);
    expect(run.output()).toContain('RabbitMQ does not answer at amqp://guest:***@127.0.0.1:');
    expect(run.output()).toContain('docker compose up -d rabbitmq');
    expect(run.output()).not.toContain('secret');
    expect(run.output()).not.toContain('started (pid');
  });
});
