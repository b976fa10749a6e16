import { randomBytes } from 'node:crypto';
import { DEFAULT_AMQP_URL, DEFAULT_DATA_DIR, portVariable, type ServiceName, type ServiceSpec, TOPOLOGY, urlVariable } from '../topology';

/** What the launcher decided for this run, from its environment. */
export interface LaunchSettings {
  /** Port of every HTTP service (the topology's, or `<NAME>_PORT`). */
  readonly ports: Readonly<Record<ServiceName, number | null>>;
  readonly host: string;
  readonly amqpUrl: string;
  readonly adminToken: string;
  /** True when the token was made for this run (then it is printed once and stored). */
  readonly tokenGenerated: boolean;
  /** Port of the control server (0: any free port). */
  readonly controlPort: number;
}

export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}

/** Variables of the launcher's environment a child must not inherit (they would be read as its own). */
const NOT_INHERITED = ['PORT', 'FAULTS_ENABLED', 'ADMIN_TOKEN'];

function parsePort(variable: string, value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65_535) throw new SettingsError(`${variable} must be a port number 0-65535 (got "${value}")`);
  return Number(value);
}

/** A 32-character token: hex of 16 random bytes. */
export function generateToken(random: (size: number) => Buffer = randomBytes): string {
  return random(16).toString('hex');
}

/**
 * Reads the launcher's settings: `AMQP_URL`, `ADMIN_TOKEN` (generated when absent),
 * `<SERVICE>_PORT` overrides (tests use free ports), `LAUNCHER_HOST`, `LAUNCHER_CONTROL_PORT`.
 */
export function readSettings(env: NodeJS.ProcessEnv, makeToken: () => string = generateToken): LaunchSettings {
  const ports = {} as Record<ServiceName, number | null>;
  for (const spec of TOPOLOGY) {
    const override = env[portVariable(spec.name)];
    if (spec.port === null) {
      ports[spec.name] = null;
      continue;
    }
    ports[spec.name] = override === undefined || override === '' ? spec.port : parsePort(portVariable(spec.name), override);
    if (ports[spec.name] === 0) throw new SettingsError(`${portVariable(spec.name)} must be a fixed port: the other services need to know it`);
  }
  const given = env.ADMIN_TOKEN === undefined || env.ADMIN_TOKEN === '' ? undefined : env.ADMIN_TOKEN;
  if (given !== undefined && given.length < 8) throw new SettingsError('ADMIN_TOKEN must be at least 8 characters');
  const controlPort = env.LAUNCHER_CONTROL_PORT ? parsePort('LAUNCHER_CONTROL_PORT', env.LAUNCHER_CONTROL_PORT) : 0;
  return {
    ports,
    host: env.LAUNCHER_HOST || '127.0.0.1',
    amqpUrl: env.AMQP_URL || DEFAULT_AMQP_URL,
    adminToken: given ?? makeToken(),
    tokenGenerated: given === undefined,
    controlPort,
  };
}

/** The base URL of an HTTP service of this run. */
export function serviceUrl(settings: LaunchSettings, name: ServiceName): string {
  const port = settings.ports[name];
  if (port === null) throw new Error(`${name} has no HTTP server`);
  return `http://${settings.host}:${port}`;
}

/**
 * The environment of one child: the launcher's own (PATH, LOG_LEVEL, AMQP_PREFIX…) without
 * the variables that would be misread, then what the topology says it needs.
 */
export function buildServiceEnv(spec: ServiceSpec, settings: LaunchSettings, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const name of NOT_INHERITED) delete env[name];
  const port = settings.ports[spec.name];
  if (port !== null) {
    env.PORT = String(port);
    env.HOST = settings.host;
  }
  if (spec.broker) env.AMQP_URL = settings.amqpUrl;
  for (const dependency of spec.calls) env[urlVariable(dependency)] = serviceUrl(settings, dependency);
  if (spec.faults) {
    env.FAULTS_ENABLED = 'true';
    env.ADMIN_TOKEN = settings.adminToken;
  }
  // Relative to the service's folder (its working directory): services/<name>/data.
  if (spec.env.includes('DATA_DIR') && !env.DATA_DIR) env.DATA_DIR = DEFAULT_DATA_DIR;
  return env;
}
