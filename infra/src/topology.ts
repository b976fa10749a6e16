/**
 * The one description of the running system: which processes exist, where their code is,
 * which port and health routes they have and which variables they are given. The launcher,
 * the chaos CLI and the agreement tests read it; `compose.test.ts` checks that
 * docker-compose.yml and every service's config schema agree with it.
 *
 * Plain data on purpose: nothing here imports a service, so the launcher and the chaos CLI
 * run even while a service does not build.
 */

export const SERVICE_NAMES = ['checkout', 'worker', 'payment', 'inventory', 'shipping', 'notification'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export const STUB_NAMES = ['payment', 'inventory', 'shipping', 'notification'] as const;
export type StubName = (typeof STUB_NAMES)[number];

export interface HealthRoutes {
  readonly live: string;
  readonly ready: string;
}

export interface ServiceSpec {
  readonly name: ServiceName;
  /** npm workspace folder, from the repository root. */
  readonly workspace: string;
  /** Compiled entry point, from the workspace folder. */
  readonly entry: string;
  /** Default port (the PORT default of the service's config schema); null: no HTTP server. */
  readonly port: number | null;
  /** Health routes; null when the process has no HTTP server (the worker). */
  readonly health: HealthRoutes | null;
  /** Serves Prometheus metrics at /metrics. */
  readonly metrics: boolean;
  /** A stub with runtime fault injection (`/admin/faults`). */
  readonly faults: boolean;
  /** Needs RabbitMQ (AMQP_URL). */
  readonly broker: boolean;
  /** The services it calls, by name (their URLs are passed as `<NAME>_URL`). */
  readonly calls: readonly StubName[];
  /** The variables the launcher and Compose set for it (each one its config schema knows). */
  readonly env: readonly string[];
  /** ANSI colour of its log prefix. */
  readonly colour: number;
}

const HEALTH: HealthRoutes = { live: '/health/live', ready: '/health/ready' };
const STUB_ENV = ['NODE_ENV', 'PORT', 'HOST', 'LOG_LEVEL', 'FAULTS_ENABLED', 'ADMIN_TOKEN'] as const;
const CALLER_ENV = ['NODE_ENV', 'LOG_LEVEL', 'AMQP_URL', 'AMQP_PREFIX', 'PAYMENT_URL', 'INVENTORY_URL', 'SHIPPING_URL', 'NOTIFICATION_URL'] as const;

/**
 * Where a service keeps its journal (checkout: keys, reasons, repairs; payment: its ledger),
 * relative to its folder. The launcher sets it when the environment does not.
 */
export const DEFAULT_DATA_DIR = 'data';

function stub(name: StubName, port: number, colour: number, extraEnv: readonly string[] = []): ServiceSpec {
  return {
    name,
    workspace: `services/${name}`,
    entry: 'dist/main.js',
    port,
    health: HEALTH,
    metrics: true,
    faults: true,
    broker: false,
    calls: [],
    env: [...STUB_ENV, ...extraEnv],
    colour,
  };
}

export const TOPOLOGY: readonly ServiceSpec[] = [
  {
    name: 'checkout',
    workspace: 'services/checkout',
    entry: 'dist/main.js',
    port: 3000,
    health: HEALTH,
    metrics: true,
    faults: false,
    broker: true,
    calls: STUB_NAMES,
    env: ['PORT', 'HOST', 'DATA_DIR', ...CALLER_ENV],
    colour: 36, // cyan
  },
  {
    // The payment-retry worker: checkout's second entry point. It has no HTTP server, so
    // no health route and no /metrics; Compose checks that the work queue has a consumer.
    name: 'worker',
    workspace: 'services/checkout',
    entry: 'dist/worker.js',
    port: null,
    health: null,
    metrics: false,
    faults: false,
    broker: true,
    calls: STUB_NAMES,
    env: CALLER_ENV,
    colour: 34, // blue
  },
  stub('payment', 3001, 33, ['DATA_DIR']), // yellow: its ledger survives a kill
  stub('inventory', 3002, 32), // green
  stub('shipping', 3003, 35), // magenta
  stub('notification', 3004, 90), // grey
];

/** The work queue of the payment-retry pipeline (no prefix), which the worker consumes. */
export const WORK_QUEUE = 'payments.retry.work';

export const DASHBOARD_PATH = '/dashboard';
export const CIRCUITS_PATH = '/circuits';
/** Checkout's read-only view of the payment-retry pipeline (queue depths, the work queue's consumers). */
export const PIPELINE_PATH = '/dashboard/api/overview';
export const FAULTS_PATH = '/admin/faults';
export const DEFAULT_AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

/** Ports of the observability side (Compose profile `observability`) and RabbitMQ's UI. */
export const PORTS = { rabbitmq: 5672, rabbitmqManagement: 15672, rabbitmqPrometheus: 15692, prometheus: 9090, grafana: 3030 } as const;

export function isServiceName(value: string): value is ServiceName {
  return (SERVICE_NAMES as readonly string[]).includes(value);
}

export function isStubName(value: string): value is StubName {
  return (STUB_NAMES as readonly string[]).includes(value);
}

export function serviceSpec(name: ServiceName): ServiceSpec {
  const spec = TOPOLOGY.find((service) => service.name === name);
  if (spec === undefined) throw new Error(`unknown service "${name}"`);
  return spec;
}

/** `payment` → `PAYMENT_URL`. */
export function urlVariable(name: StubName): string {
  return `${name.toUpperCase()}_URL`;
}

/** `payment` → `PAYMENT_PORT`: the launcher's override of a service's port. */
export function portVariable(name: ServiceName): string {
  return `${name.toUpperCase()}_PORT`;
}
