import { DEFAULT_CONNECTIONS, DEFAULT_DURATION_S, DEFAULT_RATE, parseArgs, UsageError } from './args';

describe('parseArgs', () => {
  it('reads one scenario with its defaults', () => {
    expect(parseArgs(['--scenario', 'payment-down'])).toEqual({
      mode: 'one',
      scenario: 'payment-down',
      breakers: 'on',
      capacity: false,
      durationS: DEFAULT_DURATION_S,
      rate: DEFAULT_RATE,
      connections: DEFAULT_CONNECTIONS,
      target: false,
      outDir: 'docs/load',
    });
  });

  it('reads every flag, also as --flag=value', () => {
    const options = parseArgs(['--scenario=payment-hang', '--breakers', 'off', '--capacity', '--duration', '12.5', '--rate=30', '--connections', '4', '--target', '--out', 'bench-results/load']);
    expect(options).toMatchObject({ scenario: 'payment-hang', breakers: 'off', capacity: true, durationS: 12.5, rate: 30, connections: 4, target: true, outDir: 'bench-results/load' });
  });

  it('reads --all and --help', () => {
    expect(parseArgs(['--all', '--duration', '15']).mode).toBe('all');
    expect(parseArgs(['--all', '--duration', '15']).durationS).toBe(15);
    expect(parseArgs(['--help']).mode).toBe('help');
    expect(parseArgs(['-h']).mode).toBe('help');
  });

  it.each([
    [[], /--scenario <name> or --all/],
    [['--scenario', 'nope'], /--scenario must be one of/],
    [['--scenario'], /--scenario must be one of/],
    [['--scenario', 'healthy', '--breakers', 'maybe'], /--breakers must be on or off/],
    [['--scenario', 'healthy', '--rate', '0'], /--rate must be a positive integer/],
    [['--scenario', 'healthy', '--rate', '2.5'], /--rate must be a positive integer/],
    [['--scenario', 'healthy', '--duration', 'x'], /--duration must be a positive number/],
    [['--scenario', 'healthy', '--connections'], /--connections needs a value/],
    [['--scenario', 'healthy', '--frobnicate'], /unknown argument "--frobnicate"/],
    [['--all', '--scenario', 'healthy'], /exclude each other/],
    [['--all', '--target'], /--target is for one scenario/],
    [['--scenario', 'payment-down', '--duration', '5'], /at least 10 s/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
    expect(() => parseArgs(argv)).toThrow(message);
  });

  it('lets healthy run shorter than 10 s (no fault to place)', () => {
    expect(parseArgs(['--scenario', 'healthy', '--duration', '3']).durationS).toBe(3);
  });
});
