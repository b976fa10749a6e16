import { parseChaosArgs, UsageError } from './args';

describe('parseChaosArgs', () => {
  test.each([
    [['status'], { kind: 'status', compose: false }],
    [['status', '--compose'], { kind: 'status', compose: true }],
    [['help'], { kind: 'help' }],
    [['--help'], { kind: 'help' }],
    [['kill', 'payment'], { kind: 'process', action: 'kill', service: 'payment', compose: false }],
    [['start', 'worker'], { kind: 'process', action: 'start', service: 'worker', compose: false }],
    [['restart', 'checkout', '--compose'], { kind: 'process', action: 'restart', service: 'checkout', compose: true }],
    [['--compose', 'kill', 'inventory'], { kind: 'process', action: 'kill', service: 'inventory', compose: true }],
    [['payment', 'clear'], { kind: 'clear', service: 'payment' }],
  ])('%j', (argv, command) => {
    expect(parseChaosArgs(argv)).toEqual(command);
  });

  test.each([
    [['payment', 'errors', '0.5'], { errorRate: 0.5 }],
    [['payment', 'errors', '1', '503'], { errorRate: 1, errorStatus: 503 }],
    [['inventory', 'latency', '800'], { latencyMs: 800 }],
    [['inventory', 'latency', '800', '200'], { latencyMs: 800, jitterMs: 200 }],
    [['shipping', 'hang'], { hang: true }],
    [['shipping', 'reset'], { reset: true }],
    [['notification', 'down'], { down: true }],
    [['payment', 'flap', '30000'], { flap: { periodMs: 30_000, dutyCycle: 0.5 } }],
    [['payment', 'flap', '30000', '0.33'], { flap: { periodMs: 30_000, dutyCycle: 0.33 } }],
    [['payment', 'errors', '0.3', 'latency', '200'], { errorRate: 0.3, latencyMs: 200 }],
    [['payment', 'latency', '100', '20', 'errors', '0.1', '429'], { latencyMs: 100, jitterMs: 20, errorRate: 0.1, errorStatus: 429 }],
    [['inventory', 'errors', '1', 'on', 'GET /stock/:sku, POST /reservations'], { errorRate: 1, routes: ['GET /stock/:sku', 'POST /reservations'] }],
    [['inventory', 'on', '/stock', 'hang'], { hang: true, routes: ['/stock'] }],
  ])('fault switches %j', (argv, settings) => {
    expect(parseChaosArgs(argv)).toEqual({ kind: 'faults', service: argv[0], settings });
  });

  test.each([
    [[], 'a command is needed'],
    [['explode'], 'unknown command or service "explode"'],
    [['kill'], 'kill needs a service'],
    [['kill', 'billing'], 'unknown service "billing"'],
    [['kill', 'payment', 'inventory'], 'kill takes one service'],
    [['status', 'now'], 'status takes no arguments'],
    [['checkout', 'errors', '0.5'], 'checkout has no fault switches'],
    [['worker', 'hang'], 'worker has no fault switches'],
    [['payment'], 'payment needs a fault switch'],
    [['payment', 'errors'], 'errors needs a value'],
    [['payment', 'errors', '1.5'], 'errors: expected a rate between 0 and 1, got "1.5"'],
    [['payment', 'errors', 'half'], 'errors: expected a rate between 0 and 1, got "half"'],
    [['payment', 'errors', '0.5', '404'], 'errors status: expected 500, 503 or 429'],
    [['payment', 'latency', '-5'], 'latency: expected milliseconds'],
    [['payment', 'latency', '1.5'], 'latency: expected milliseconds'],
    [['payment', 'flap', '0'], 'flap: expected a period in milliseconds'],
    [['payment', 'flap', '1000', '1'], 'flap duty cycle: expected a fraction between 0 and 1'],
    [['payment', 'hang', '5'], 'hang takes no value'],
    [['payment', 'explode'], 'unknown fault switch "explode"'],
    [['payment', 'hang', 'hang'], 'hang is given twice'],
    [['payment', 'hang', 'clear'], 'clear cannot be combined'],
    [['payment', 'clear', 'now'], 'clear takes no arguments'],
    [['payment', 'hang', '--compose'], '--compose applies to kill, start, restart and status'],
    [['kill', 'payment', '--force'], 'unknown option --force'],
    [['payment', 'errors', '1', 'on'], 'on needs routes'],
    [['payment', 'on', '/charges'], 'on limits other switches'],
  ])('refuses %j', (argv, message) => {
    expect(() => parseChaosArgs(argv)).toThrow(UsageError);
    expect(() => parseChaosArgs(argv)).toThrow(message);
  });
});
