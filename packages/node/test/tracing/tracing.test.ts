/**
 * Goal: tracing is off unless asked for — no SDK, no tracer, nothing for the request path to call — and on by
 * etcd 3.5's flag or by an OTLP endpoint in the environment; the flags parse as etcd 3.5's.
 * Method: startTracing with the parsed flags and chosen environments; the end-to-end trace is in
 * test/observability/tracing.test.ts.
 */
import { parseConfig, type Config } from '../../src/config/index.js';
import { startTracing } from '../../src/tracing/index.js';

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

function config(argv: string[]): Config {
  const outcome = parseConfig(argv, {});
  if (outcome.kind !== 'run') throw new Error('expected a config');
  return outcome.config;
}

test('off by default: no tracing object, so the request path skips every span', () => {
  const c = config([]);
  expect(c.tracing).toEqual({ enabled: false, address: 'localhost:4317', serviceName: 'etcd', samplingRatePerMillion: 0 });
  expect(startTracing({ config: c.tracing, memberIdHex: '1', logger: silent as never, env: {} })).toBeUndefined();
});

test('the flags switch it on (etcd 3.5 names), and so does an OTLP endpoint in the environment', async () => {
  const c = config(['--experimental-enable-distributed-tracing', '--experimental-distributed-tracing-address=127.0.0.1:1', '--experimental-distributed-tracing-sampling-rate', '10']);
  expect(c.tracing).toEqual({ enabled: true, address: '127.0.0.1:1', serviceName: 'etcd', samplingRatePerMillion: 10 });
  const byFlag = startTracing({ config: c.tracing, memberIdHex: '1', logger: silent as never, env: {} });
  expect(byFlag).toBeDefined();
  await byFlag?.shutdown();
  const byEnv = startTracing({ config: config([]).tracing, memberIdHex: '1', logger: silent as never, env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1' } });
  expect(byEnv).toBeDefined();
  await byEnv?.shutdown();
});

test('--metrics: extensive as etcd; any other word is basic, as etcd 3.4 accepts it', () => {
  expect(config([]).metrics).toBe('basic');
  expect(config(['--metrics', 'extensive']).metrics).toBe('extensive');
  expect(config(['--metrics=other']).metrics).toBe('basic');
});
