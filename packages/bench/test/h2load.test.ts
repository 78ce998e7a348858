// Goal: what h2load 1.52 prints (summary, --log-file rows, bash `times`) is read correctly, and the arguments it is
// given reproduce etcd benchmark's clients/conns, total/duration and rate.
// Method: outputs captured from real runs on this machine (a -n run and a -D run with warm-up) as fixtures.
import { LatencyHistogram } from '../src/histogram.js';
import { h2loadArgs, parseBashTimes, parseH2loadDurationMs, parseH2loadLog, parseH2loadOutput } from '../src/h2load.js';
import { DEFAULT_OPTIONS } from '../src/options.js';

const TOTAL_RUN = `starting benchmark...
spawning thread #0: 8 total client(s). 2000 total requests
Application protocol: h2c
progress: 10% done
progress: 100% done

finished in 61.28ms, 32636.54 req/s, 2.13MB/s
requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed, 0 errored, 0 timeout
status codes: 2000 2xx, 0 3xx, 0 4xx, 0 5xx
traffic: 133.85KB (137066) total, 4.00KB (4096) headers (space savings 94.61%), 62.38KB (63874) data
                     min         max         mean         sd        +/- sd
time for request:      192us      3.88ms      1.78ms       697us    67.30%
time for connect:       88us       377us       202us        92us    75.00%
time to 1st byte:     2.07ms      3.06ms      2.75ms       358us    75.00%
req/s           :    4106.21     4320.94     4234.82       74.22    62.50%
`;

const DURATION_RUN = `starting benchmark...
spawning thread #0: 8 total client(s). Timing-based test with 1s of warm-up time and 2s of main duration for measurements.
Warm-up started for thread #0.
Main benchmark duration is over for thread #0. Stopping all clients.
Stopped all clients for thread #0

finished in 3.00s, 12164.00 req/s, 816.95KB/s
requests: 24328 total, 24328 started, 24328 done, 24320 succeeded, 8 failed, 0 errored, 0 timeout
status codes: 24296 2xx, 0 3xx, 0 4xx, 8 5xx
traffic: 1.60MB (1673114) total, 167.49KB (171512) headers (space savings 96.38%), 1.12MB (1175172) data
                     min         max         mean         sd        +/- sd
time for request:     2.41ms     23.80ms      5.18ms      1.78ms    86.67%
time for connect:        0us         0us         0us         0us     0.00%
time to 1st byte:        0us         0us         0us         0us     0.00%
req/s           :    1515.51     1523.48     1519.99        2.55    62.50%
`;

describe('h2load output', () => {
  test('durations in us, ms and s', () => {
    expect(parseH2loadDurationMs('192us')).toBeCloseTo(0.192);
    expect(parseH2loadDurationMs('3.88ms')).toBeCloseTo(3.88);
    expect(parseH2loadDurationMs('3.00s')).toBeCloseTo(3000);
    expect(() => parseH2loadDurationMs('3 min')).toThrow();
  });

  test('a -n run', () => {
    expect(parseH2loadOutput(TOTAL_RUN)).toEqual({
      elapsedSeconds: 0.06128, requestsPerSecond: 32636.54, total: 2000, succeeded: 2000, failed: 0, errored: 0, timeout: 0,
      status2xx: 2000, requestTimeMs: { min: 0.192, max: 3.88, mean: 1.78, sd: 0.697 },
    });
  });

  test('a -D run with failures', () => {
    const s = parseH2loadOutput(DURATION_RUN);
    expect([s.elapsedSeconds, s.requestsPerSecond, s.total, s.succeeded, s.failed, s.status2xx]).toEqual([3, 12164, 24328, 24320, 8, 24296]);
    expect(s.requestTimeMs.max).toBeCloseTo(23.8);
  });

  test('output that is not a summary is an error', () => {
    expect(() => parseH2loadOutput('connect to 127.0.0.1 port 1 failed\n')).toThrow(/not understood/);
  });

  test('--log-file rows feed the histogram; non-200 rows are counted', () => {
    const h = new LatencyHistogram();
    const log = '1795561594521128\t200\t1878\n1795561594521126\t200\t1897\n1795561594521274\t503\t1770\n\ngarbage\n';
    expect(parseH2loadLog(log, h)).toEqual({ rows: 3, non200: 1 });
    expect([h.count, h.minUs, h.maxUs]).toEqual([3, 1770, 1897]);
  });

  test("bash's times: the children's line", () => {
    expect(parseBashTimes('some h2load error\n0m0.002s 0m0.000s\n1m0.107s 0m0.124s\n')).toEqual({ userSeconds: 60.107, systemSeconds: 0.124 });
    expect(parseBashTimes('nothing\n')).toBeNull();
  });
});

describe('h2loadArgs', () => {
  test('clients spread as streams over conns; -n for a total', () => {
    const args = h2loadArgs({ ...DEFAULT_OPTIONS, clients: 64, conns: 8, total: 5000 }, 'http://h:1/etcdserverpb.KV/Put', '/b', '/l');
    expect(args).toEqual(['-c', '8', '-m', '8', '-t', '1', '-d', '/b', '-H', 'content-type: application/grpc', '-H', 'te: trailers',
      '--log-file=/l', '-n', '5000', 'http://h:1/etcdserverpb.KV/Put']);
  });

  test('-D with warm-up for a duration; the rate is per connection', () => {
    const args = h2loadArgs({ ...DEFAULT_OPTIONS, clients: 10, conns: 4, durationSeconds: 5, warmupSeconds: 1, rate: 1000 }, 'u', 'b', 'l');
    expect(args.slice(args.indexOf('-m'), args.indexOf('-m') + 2)).toEqual(['-m', '3']);
    expect(args).toEqual(expect.arrayContaining(['-D', '5', '--warm-up-time=1', '--rps=250']));
    expect(args).not.toContain('-n');
  });
});
