// Goal: corvid-bench lease-expiry's flags: defaults, each flag, --flag=value, and refusals of bad values.
import { DEFAULT_LEASE_EXPIRY, parseLeaseExpiryArgs } from '../src/lease-expiry.js';
import { UsageError } from '../src/options.js';

test('defaults, then every flag', () => {
  expect(parseLeaseExpiryArgs([])).toEqual({ options: { ...DEFAULT_LEASE_EXPIRY, endpoint: '127.0.0.1:2379' }, json: false });
  const { options, json } = parseLeaseExpiryArgs(['--endpoints', 'http://10.0.0.1:2379,10.0.0.2:2379', '--leases=500', '--lease-ttl', '7',
    '--rate', '30', '--concurrency', '4', '--conns', '2', '--json']);
  expect(json).toBe(true);
  expect(options).toEqual({ ...DEFAULT_LEASE_EXPIRY, endpoint: '10.0.0.1:2379', leases: 500, ttlSeconds: 7, putRate: 30, concurrency: 4, conns: 2 });
});

test('refuses unknown flags and non-positive counts', () => {
  expect(() => parseLeaseExpiryArgs(['--ttl', '5'])).toThrow(new UsageError('unknown option --ttl'));
  expect(() => parseLeaseExpiryArgs(['--leases', '0'])).toThrow(UsageError);
  expect(() => parseLeaseExpiryArgs(['--rate', 'x'])).toThrow(UsageError);
  expect(() => parseLeaseExpiryArgs(['--endpoints', 'nohost'])).toThrow(UsageError);
});
