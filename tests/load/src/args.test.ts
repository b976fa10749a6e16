import { DEFAULT_CONNECTIONS, DEFAULT_DURATION_S, DEFAULT_RATE, DEFAULT_SETTLE_S, parseArgs, UsageError } from './args';

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
      settleS: DEFAULT_SETTLE_S,
      target: false,
      targetUrls: null,
      outDir: 'docs/load',
    });
  });

  it('reads every flag, also as --flag=value', () => {
    const options = parseArgs(['--scenario=payment-hang', '--breakers', 'off', '--capacity', '--duration', '12.5', '--rate=30', '--connections', '4', '--settle=300', '--target', '--out', 'bench-results/load']);
    expect(options).toMatchObject({ scenario: 'payment-hang', breakers: 'off', capacity: true, durationS: 12.5, rate: 30, connections: 4, settleS: 300, target: true, outDir: 'bench-results/load' });
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
    [['--scenario', 'healthy', '--settle', '-1'], /--settle must be a positive number/],
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

  describe('--target', () => {
    const ENV = {
      CHECKOUT_URL: 'http://checkout:3000',
      PAYMENT_URL: 'http://payment:3001',
      INVENTORY_URL: 'http://inventory:3002',
      SHIPPING_URL: 'http://shipping:3003',
      NOTIFICATION_URL: 'http://notification:3004',
      ADMIN_TOKEN: 'a-long-admin-token',
    };

    it('means the launcher\'s state file when the environment gives no URL', () => {
      expect(parseArgs(['--scenario', 'payment-down', '--target'], { ADMIN_TOKEN: 'a-long-admin-token' })).toMatchObject({ target: true, targetUrls: null });
    });

    it('takes the URLs and the token from the environment when it gives them', () => {
      expect(parseArgs(['--target', '--scenario', 'payment-down'], ENV).targetUrls).toEqual({
        checkout: 'http://checkout:3000',
        payment: 'http://payment:3001',
        inventory: 'http://inventory:3002',
        shipping: 'http://shipping:3003',
        notification: 'http://notification:3004',
        adminToken: 'a-long-admin-token',
      });
    });

    it.each(Object.keys(ENV))('refuses the URLs without %s, naming it', (missing) => {
      const env: Record<string, string> = { ...ENV };
      delete env[missing];
      expect(() => parseArgs(['--target', '--scenario', 'healthy'], env)).toThrow(UsageError);
      expect(() => parseArgs(['--target', '--scenario', 'healthy'], env)).toThrow(new RegExp(`: ${missing} is not set`));
    });

    it('refuses URLs in the environment without --target (a system of its own would inherit them)', () => {
      expect(() => parseArgs(['--scenario', 'healthy'], ENV)).toThrow(/CHECKOUT_URL, PAYMENT_URL.* set: add --target/);
      expect(() => parseArgs(['--all'], ENV)).toThrow(UsageError);
      expect(parseArgs(['--help'], ENV).mode).toBe('help');
    });
  });
});
