// Goal: corvid-bench reads etcd benchmark's flags, with its defaults, and rejects what it cannot run; the progress
// line reads right.
// Method: parseOptions on argument lists, compared field by field; UsageError on bad input.
import { DEFAULT_OPTIONS, UsageError, isFixedRequest, isStreamWorkload, parseOptions } from '../src/options.js';
import { progressLine } from '../src/progress.js';

describe('parseOptions', () => {
  test("defaults are etcd benchmark's: 8-byte keys and values, one key", () => {
    const o = parseOptions(['put']);
    expect(o).toEqual({ ...DEFAULT_OPTIONS, workload: 'put' });
    expect([o.keySize, o.valSize, o.keySpaceSize, o.clients, o.conns]).toEqual([8, 8, 1, 1, 1]);
    expect(isFixedRequest(o)).toBe(true);
  });

  test('every flag, in both --flag value and --flag=value forms', () => {
    const o = parseOptions(['range', '--endpoints', 'http://127.0.0.1:1,127.0.0.1:2', '--clients=64', '--conns', '8', '--total', '500',
      '--duration=2.5', '--warmup', '1', '--key-size', '16', '--val-size=256', '--key-space-size', '1000', '--sequential-keys',
      '--consistency', 's', '--rate', '100', '--generator', 'node', '--workers', '3', '--json', '--rw-ratio=4', '--target-leader',
      '--streams', '5', '--watch-per-stream', '20']);
    expect(o).toEqual({
      workload: 'range', endpoints: ['127.0.0.1:1', '127.0.0.1:2'], clients: 64, conns: 8, total: 500, durationSeconds: 2.5,
      warmupSeconds: 1, keySize: 16, valSize: 256, keySpaceSize: 1000, sequentialKeys: true, consistency: 's', rate: 100,
      generator: 'node', workers: 3, json: true, rwRatio: 4, targetLeader: true, streams: 5, watchPerStream: 20,
    });
    expect(isFixedRequest(o)).toBe(false);
  });

  test.each([
    [[]],
    [['watchers']],
    [['put', 'extra']],
    [['put', '--clients', '0']],
    [['put', '--clients', 'x']],
    [['put', '--clients', '4', '--conns', '8']],
    [['put', '--consistency', 'q']],
    [['put', '--generator', 'wrk']],
    [['put', '--endpoints', 'localhost']],
    [['put', '--duration', '-1']],
    [['put', '--bogus', '1']],
    [['put', '--key-size', '1', '--key-space-size', '1000']],
  ])('rejects %j', (argv) => {
    expect(() => parseOptions(argv)).toThrow(UsageError);
  });
});

describe('stream and mixed workloads', () => {
  test('watch-latency puts at 100/s unless --rate says otherwise (etcd\'s --put-rate default)', () => {
    expect(parseOptions(['watch-latency']).rate).toBe(100);
    expect(parseOptions(['watch-latency', '--rate', '7']).rate).toBe(7);
    expect(parseOptions(['watch']).rate).toBe(0);
  });

  test('only put, range and txn-put can be replayed by h2load', () => {
    expect(isFixedRequest(parseOptions(['txn-put']))).toBe(true);
    for (const w of ['txn-mixed', 'watch', 'watch-latency', 'lease-keepalive']) expect(isFixedRequest(parseOptions([w]))).toBe(false);
    expect(isStreamWorkload(parseOptions(['lease-keepalive']))).toBe(true);
    expect(isStreamWorkload(parseOptions(['txn-mixed']))).toBe(false);
  });
});

describe('progressLine', () => {
  test('a bar for timed runs, elapsed seconds otherwise', () => {
    expect(progressLine(2.5, 5)).toBe(`[${'#'.repeat(15)}${' '.repeat(15)}] 50% 2.5/5 s`);
    expect(progressLine(7, 5)).toMatch(/^\[#{30}\] 100% 7\.0\/5 s$/);
    expect(progressLine(1.25, 0)).toBe('running… 1.3 s');
  });
});
