import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { topologyNames } from '@checkout/messaging';
import { loadConfig } from '@checkout/service-kit';
import { buildServiceEnv, readSettings } from './launcher/env';
import { readSchemaDefaults, readYaml, repoFile, SCHEMAS, schemaVariables } from './testing.test.util';
import { DEFAULT_AMQP_URL, SERVICE_NAMES, TOPOLOGY, urlVariable, WORK_QUEUE } from './topology';

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string; target?: string };
  command?: string[];
  entrypoint?: string[];
  working_dir?: string;
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  restart?: string;
  profiles?: string[];
}

const compose = readYaml<{ services: Record<string, ComposeService> }>('docker-compose.yml');
const services = compose.services;
const INFRA_SERVICES = ['rabbitmq', 'prometheus', 'grafana', 'load'];
const ADMIN_TOKEN = 'compose-test-token';

/** ${VAR:-default} and ${VAR:?message} as Compose substitutes them, with ADMIN_TOKEN set. */
function substitute(value: string, env: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_match, name: string, kind: string | undefined, rest: string | undefined) => {
    if (env[name] !== undefined) return env[name];
    if (kind === '-') return rest ?? '';
    throw new Error(`${name} is required: ${rest}`);
  });
}

function composeEnv(name: string): Record<string, string> {
  const environment = services[name]?.environment ?? {};
  return Object.fromEntries(Object.entries(environment).map(([key, value]) => [key, substitute(String(value), { ADMIN_TOKEN })]));
}

describe('docker-compose.yml agrees with infra/src/topology.ts', () => {
  test('has exactly the topology services, plus RabbitMQ and the observability and load profiles', () => {
    expect(Object.keys(services).sort()).toEqual([...SERVICE_NAMES, ...INFRA_SERVICES].sort());
  });

  test.each(TOPOLOGY.map((spec) => [spec.name, spec] as const))('%s: entry point, image and restart policy', (name, spec) => {
    const service = services[name]!;
    expect(service.working_dir).toBe(`/app/${spec.workspace}`);
    expect(service.command).toEqual(['node', spec.entry]);
    expect(service.build).toEqual({ context: '.', dockerfile: 'infra/Dockerfile', target: 'runtime' });
    // A killed service stays down until started again.
    expect(service.restart).toBe('no');
    expect(service.profiles).toBeUndefined();
  });

  test.each(TOPOLOGY.map((spec) => [spec.name, spec] as const))('%s: port, published on 127.0.0.1 only, is the PORT default of its config schema', (name, spec) => {
    const service = services[name]!;
    if (spec.port === null) {
      expect(service.ports).toBeUndefined();
      return;
    }
    expect(readSchemaDefaults(name).PORT).toBe(spec.port);
    expect(service.ports).toEqual([`127.0.0.1:${spec.port}:${spec.port}`]);
    expect(composeEnv(name).PORT).toBe(String(spec.port));
  });

  test.each(TOPOLOGY.map((spec) => [spec.name, spec] as const))('%s: every variable is one its config schema knows, and the values pass it', (name, spec) => {
    const env = composeEnv(name);
    const known = schemaVariables(name);
    for (const variable of Object.keys(env)) {
      expect({ variable, known: known.includes(variable), inTopology: spec.env.includes(variable) }).toEqual({ variable, known: true, inTopology: true });
    }
    const config = loadConfig(SCHEMAS[name], env) as Record<string, unknown>;
    if (spec.broker) expect(new URL(env.AMQP_URL!).host).toBe('rabbitmq:5672');
    for (const dependency of spec.calls) {
      expect(config[urlVariable(dependency)]).toBe(`http://${dependency}:${TOPOLOGY.find((s) => s.name === dependency)!.port}`);
    }
    if (spec.faults) {
      expect(config.FAULTS_ENABLED).toBe(true);
      expect(services[name]!.environment!.ADMIN_TOKEN).toMatch(/^\$\{ADMIN_TOKEN:\?/); // from .env, no default
      expect(config.ADMIN_TOKEN).toBe(ADMIN_TOKEN);
    } else {
      expect(env.FAULTS_ENABLED).toBeUndefined();
    }
  });

  test.each(TOPOLOGY.map((spec) => [spec.name, spec] as const))('%s: health check and depends_on (service_healthy)', (name, spec) => {
    const service = services[name]!;
    const check = service.healthcheck!.test.join(' ');
    if (spec.health === null) {
      // The worker has no HTTP server: the work queue must have a consumer.
      expect(check).toContain(`checkQueue('${WORK_QUEUE}')`);
      expect(topologyNames('', []).workQueue).toBe(WORK_QUEUE);
    } else {
      expect(check).toContain(`'http://127.0.0.1:${spec.port}${spec.health.ready}'`);
    }
    const expected = [...(spec.broker ? ['rabbitmq'] : []), ...spec.calls].sort();
    expect(Object.keys(service.depends_on ?? {}).sort()).toEqual(expected);
    for (const dependency of Object.values(service.depends_on ?? {})) expect(dependency.condition).toBe('service_healthy');
  });

  test('the local launcher gives every service variables its schema knows and accepts', () => {
    const settings = readSettings({ ADMIN_TOKEN });
    for (const spec of TOPOLOGY) {
      const env = buildServiceEnv(spec, settings, {});
      for (const variable of Object.keys(env)) expect({ service: spec.name, variable, known: spec.env.includes(variable) && schemaVariables(spec.name).includes(variable) }).toEqual({ service: spec.name, variable, known: true });
      const config = loadConfig(SCHEMAS[spec.name], env) as Record<string, unknown>;
      if (spec.port !== null) expect(config.PORT).toBe(spec.port);
    }
  });
});

describe('RabbitMQ and the profiles', () => {
  const rabbitmq = services.rabbitmq!;

  test('RabbitMQ 4 with management, a health check and its files from infra/rabbitmq', () => {
    expect(rabbitmq.image).toBe('rabbitmq:4-management');
    expect(rabbitmq.healthcheck?.test).toEqual(expect.arrayContaining(['rabbitmq-diagnostics']));
    expect(rabbitmq.ports).toEqual(expect.arrayContaining(['127.0.0.1:5672:5672', '127.0.0.1:15672:15672', '127.0.0.1:15692:15692']));
    const mounts = rabbitmq.volumes!.map((volume) => volume.split(':')[0]!);
    expect(mounts).toEqual(['./infra/rabbitmq/rabbitmq.conf', './infra/rabbitmq/definitions.json', './infra/rabbitmq/enabled_plugins']);
    expect(readFileSync(repoFile('infra/rabbitmq/rabbitmq.conf'), 'utf8')).toMatch(/^load_definitions = \/etc\/rabbitmq\/definitions\.json$/m);
    expect(readFileSync(repoFile('infra/rabbitmq/enabled_plugins'), 'utf8')).toMatch(/rabbitmq_prometheus/);
  });

  const definitions = JSON.parse(readFileSync(repoFile('infra/rabbitmq/definitions.json'), 'utf8')) as {
    users: { name: string; password_hash: string; hashing_algorithm: string }[];
    permissions: { user: string; vhost: string; configure: string; write: string; read: string }[];
  };

  /** Would the broker of definitions.json let this AMQP URL's user in, with every permission on its vhost? */
  function expectAccepted(amqpUrl: string): void {
    const url = new URL(amqpUrl);
    const user = definitions.users.find((candidate) => candidate.name === decodeURIComponent(url.username));
    expect({ user: url.username, defined: user !== undefined }).toEqual({ user: url.username, defined: true });
    expect(user!.hashing_algorithm).toBe('rabbit_password_hashing_sha256');
    const stored = Buffer.from(user!.password_hash, 'base64');
    const salt = stored.subarray(0, 4);
    expect(createHash('sha256').update(Buffer.concat([salt, Buffer.from(decodeURIComponent(url.password))])).digest()).toEqual(stored.subarray(4));
    const vhost = url.pathname === '' || url.pathname === '/' ? '/' : decodeURIComponent(url.pathname.slice(1));
    expect(definitions.permissions).toContainEqual({ user: user!.name, vhost, configure: '.*', write: '.*', read: '.*' });
  }

  test("the services' AMQP credentials are a user of definitions.json with permissions on its vhost", () => {
    expect(composeEnv('worker').AMQP_URL).toBe(composeEnv('checkout').AMQP_URL);
    expectAccepted(composeEnv('checkout').AMQP_URL!);
  });

  test("`docker compose up -d rabbitmq`, then `npm start`: the launcher's default AMQP_URL logs in from the host", () => {
    // With definitions loaded at boot RabbitMQ creates no default user: guest/guest must be defined…
    expectAccepted(DEFAULT_AMQP_URL);
    // …and allowed from outside the container's loopback (a published port is not loopback).
    expect(readFileSync(repoFile('infra/rabbitmq/rabbitmq.conf'), 'utf8')).toMatch(/^loopback_users(\.guest = false| = none)$/m);
    expect(rabbitmq.ports!.every((port) => port.startsWith('127.0.0.1:'))).toBe(true);
  });

  test('observability: Prometheus and Grafana (3030) with their files from infra/', () => {
    expect(services.prometheus!.profiles).toEqual(['observability']);
    expect(services.grafana!.profiles).toEqual(['observability']);
    expect(services.grafana!.ports).toEqual(['127.0.0.1:3030:3000']);
    expect(services.prometheus!.ports).toEqual(['127.0.0.1:9090:9090']);
    for (const name of ['prometheus', 'grafana']) {
      for (const volume of services[name]!.volumes!) expect(existsSync(repoFile(volume.split(':')[0]!))).toBe(true);
    }
  });

  test('load: the build stage runs the compiled load tool (tests/load) with --target against the Compose checkout and stubs', () => {
    const load = services.load!;
    expect(load.profiles).toEqual(['load']);
    // The build stage: compiled by its `tsc -b` (the root tsconfig references tests/load), with the dev tools.
    expect(load.build).toEqual({ context: '.', dockerfile: 'infra/Dockerfile', target: 'build' });
    const rootReferences = (JSON.parse(readFileSync(repoFile('tsconfig.json'), 'utf8')) as { references: { path: string }[] }).references.map((r) => r.path);
    expect(rootReferences).toContain('tests/load');
    expect(load.working_dir).toBe('/app');
    expect(load.entrypoint).toEqual(['node', 'tests/load/dist/main.js']);
    expect(existsSync(repoFile('tests/load/src/main.ts'))).toBe(true);
    // Every flag of the command is one the load tool's argument parser handles.
    const command = load.command ?? [];
    const args = readFileSync(repoFile('tests/load/src/args.ts'), 'utf8');
    for (const flag of command.filter((word) => word.startsWith('--'))) expect({ flag, handled: args.includes(`case '${flag}'`) }).toEqual({ flag, handled: true });
    // One scenario against the running system, never --all (which starts systems of its own).
    expect(command).toContain('--target');
    expect(command).not.toContain('--all');
    expect(command[command.indexOf('--scenario') + 1]).toMatch(/^[a-z-]+$/);
    // Its results reach the host: the output folder is under the mounted bench-results.
    const out = command[command.indexOf('--out') + 1]!;
    expect(load.volumes).toEqual(['./bench-results:/app/bench-results']);
    expect(out.startsWith('bench-results/')).toBe(true);
    // The target's URLs: checkout and every stub of this file, on the port its topology (and PORT) says.
    const env = composeEnv('load');
    const urlVariables = ['CHECKOUT_URL', ...TOPOLOGY.filter((spec) => spec.faults).map((spec) => urlVariable(spec.name as 'payment'))];
    expect(urlVariables.sort()).toEqual(['CHECKOUT_URL', 'INVENTORY_URL', 'NOTIFICATION_URL', 'PAYMENT_URL', 'SHIPPING_URL']);
    for (const variable of urlVariables) {
      const name = variable.replace(/_URL$/, '').toLowerCase();
      const spec = TOPOLOGY.find((candidate) => candidate.name === name)!;
      expect({ variable, url: env[variable] }).toEqual({ variable, url: `http://${name}:${spec.port}` });
      expect(composeEnv(name).PORT).toBe(String(spec.port));
    }
    // The stubs' admin token, from .env like theirs, required; no broker (it does not start services).
    expect(services.load!.environment!.ADMIN_TOKEN).toBe(services.payment!.environment!.ADMIN_TOKEN);
    expect(String(services.load!.environment!.ADMIN_TOKEN)).toMatch(/^\$\{ADMIN_TOKEN:\?.+\}$/);
    expect(env.ADMIN_TOKEN).toBe(ADMIN_TOKEN);
    expect(Object.keys(env).sort()).toEqual([...urlVariables, 'ADMIN_TOKEN'].sort());
    // It starts once checkout answers and the worker consumes the retry queue.
    expect(load.depends_on).toEqual({ checkout: { condition: 'service_healthy' }, worker: { condition: 'service_healthy' } });
  });

  test('.env.example sets every variable docker-compose.yml requires', () => {
    const example = readFileSync(repoFile('.env.example'), 'utf8');
    const required = new Set([...readFileSync(repoFile('docker-compose.yml'), 'utf8').matchAll(/\$\{(\w+):\?/g)].map((match) => match[1]!));
    expect([...required]).toEqual(['ADMIN_TOKEN']);
    for (const variable of required) expect(example).toMatch(new RegExp(`^${variable}=.{8,}$`, 'm'));
  });

  test('docker-compose config -q accepts the file (when docker-compose is installed)', () => {
    const which = spawnSync('sh', ['-c', 'command -v docker-compose'], { encoding: 'utf8' });
    if (which.status !== 0) {
      // The one assertion that depends on the machine: CI installs it (apt-get install -y docker-compose).
      console.warn('docker-compose is not installed: `docker-compose config -q` not run (apt-get install -y docker-compose)');
      return;
    }
    for (const profile of [[], ['--profile', 'observability'], ['--profile', 'load']]) {
      expect(() =>
        execFileSync('docker-compose', [...profile, 'config', '-q'], { cwd: repoFile(), env: { ...process.env, ADMIN_TOKEN }, stdio: 'pipe' }),
      ).not.toThrow();
    }
  });
});
