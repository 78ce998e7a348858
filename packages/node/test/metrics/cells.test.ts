/**
 * Goal: the cell metrics expose exactly the text prom-client's own Counter and Histogram expose for the same
 * events (so they can replace them on the hot path), and GrpcMetrics counts a call as go-grpc-prometheus does.
 * Method: feed the same labelled events to a cell metric and to prom-client's metric on two registries and
 * compare their exposition; drive GrpcMetrics through a unary call, a failed call and a stream and read its text.
 */
import { Metadata, status } from '@grpc/grpc-js';
import { Counter, Histogram, Registry } from 'prom-client';
import { CellCounter, CellHistogram } from '../../src/metrics/cells.js';
import { GrpcMetrics } from '../../src/metrics/index.js';

const BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1];
const EVENTS: ReadonlyArray<[string, number]> = [['a', 0.001], ['a', 0.005], ['b', 0.0051], ['a', 0.1], ['b', 7], ['a', 0.05]];

test('a cell counter and histogram print what prom-client prints for the same events', async () => {
  const [ours, theirs] = [new Registry(), new Registry()];
  const counter = new CellCounter(ours, 'x_total', 'Things.');
  const histogram = new CellHistogram(ours, 'x_seconds', 'Times.', BOUNDS);
  const promCounter = new Counter({ name: 'x_total', help: 'Things.', labelNames: ['k'], registers: [theirs] });
  const promHistogram = new Histogram({ name: 'x_seconds', help: 'Times.', labelNames: ['k'], buckets: BOUNDS, registers: [theirs] });
  for (const [k, v] of EVENTS) {
    counter.cell({ k }).value += 1;
    histogram.cell({ k }).observe(v);
    promCounter.inc({ k });
    promHistogram.observe({ k }, v);
  }
  expect(await ours.metrics()).toBe(await theirs.metrics());
});

test('GrpcMetrics: a unary call, a failed one and a stream, as go-grpc-prometheus counts them', async () => {
  const registry = new Registry();
  const metrics = new GrpcMetrics(registry, 'extensive');
  metrics.startUnary('etcdserverpb.KV', 'Put')(status.OK);
  metrics.startUnary('etcdserverpb.KV', 'Put')(status.UNAVAILABLE);
  const stream = metrics.startBidiStream('etcdserverpb.Watch', 'Watch');
  stream.receivedMessage();
  stream.sentMessage();
  stream.sentMessage();
  stream.end(status.CANCELLED);
  const md = new Metadata();
  md.set('client-api-version', '3.4');
  metrics.countClientRequest('unary', md);
  metrics.countClientRequest('unary', new Metadata());
  const text = await registry.metrics();
  const samples = text.split('\n').filter((l) => !l.startsWith('#') && l.includes('{')).map((l) => {
    const [, name = '', body = '', v = ''] = /^(\w+)\{(.*)\} (\S+)$/.exec(l) ?? [];
    return { name, labels: Object.fromEntries([...body.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]])), value: Number(v) };
  });
  const value = (name: string, labels: Record<string, string>): number | undefined =>
    samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  const put = { grpc_type: 'unary', grpc_service: 'etcdserverpb.KV', grpc_method: 'Put' };
  const watch = { grpc_type: 'bidi_stream', grpc_service: 'etcdserverpb.Watch', grpc_method: 'Watch' };
  expect(value('grpc_server_started_total', put)).toBe(2);
  expect(value('grpc_server_msg_received_total', put)).toBe(2);
  expect(value('grpc_server_msg_sent_total', put)).toBe(1);
  expect(value('grpc_server_handled_total', { ...put, grpc_code: 'OK' })).toBe(1);
  expect(value('grpc_server_handled_total', { ...put, grpc_code: 'Unavailable' })).toBe(1);
  expect(value('grpc_server_handled_total', { ...put, grpc_code: 'Aborted' })).toBe(0);
  expect(value('grpc_server_handling_seconds_count', put)).toBe(2);
  expect(value('grpc_server_msg_received_total', watch)).toBe(1);
  expect(value('grpc_server_msg_sent_total', watch)).toBe(2);
  expect(value('grpc_server_handled_total', { ...watch, grpc_code: 'Canceled' })).toBe(1);
  expect(value('etcd_server_client_requests_total', { type: 'unary', client_api_version: '3.4' })).toBe(1);
  expect(value('etcd_server_client_requests_total', { type: 'unary', client_api_version: 'unknown' })).toBe(1);
  // basic: no handling-time histogram, as etcd without --metrics extensive
  const basic = new Registry();
  new GrpcMetrics(basic, 'basic').startUnary('etcdserverpb.KV', 'Range')(status.OK);
  expect(await basic.metrics()).not.toContain('grpc_server_handling_seconds');
});
