/**
 * Goal: with etcd 3.5's tracing flags a Put produces ONE trace that follows it through the member — the gRPC
 * server span, `propose` (member id, Raft index and term, revision), its `raft.commit` and `apply` children, and
 * `respond` — exported over OTLP/gRPC; a read gets its own trace; and a caller's W3C `traceparent` continues into the
 * member (the call's span is the caller's child, in the caller's trace).
 * Method: a tiny OTLP receiver on 127.0.0.1 (otlp-receiver.ts), one Corvid member started with
 * --experimental-enable-distributed-tracing pointing at it (sampling every request), a Put and a Range, then wait
 * (with a deadline) for the spans and check their tree, attributes and time order.
 */
import { credentials, Metadata } from '@grpc/grpc-js';
import { etcdserverpb } from '@corvid/proto';
import { bytes, kvClient } from '../harness/grpc.js';
import { ProcessGroup } from '../harness/processes.js';
import { waitFor } from '../harness/wait.js';
import { OtlpReceiver, type ReceivedSpan } from './otlp-receiver.js';

const group = new ProcessGroup();
let receiver: OtlpReceiver;

beforeAll(async () => {
  receiver = await OtlpReceiver.start();
});

afterAll(async () => {
  await group.cleanup();
  await receiver.close();
});

const byName = (spans: readonly ReceivedSpan[], name: string): ReceivedSpan[] => spans.filter((s) => s.name === name);

test('a Put is one trace: KV/Put → propose → raft.commit, apply; respond', async () => {
  const member = await group.start('corvid', {
    extraArgs: [
      '--experimental-enable-distributed-tracing',
      '--experimental-distributed-tracing-address', receiver.address,
      '--experimental-distributed-tracing-service-name', 'corvid-test',
      '--experimental-distributed-tracing-sampling-rate', '1000000',
    ],
    // Export each batch within 100 ms instead of the SDK's 5 s.
    env: { OTEL_BSP_SCHEDULE_DELAY: '100' },
  });
  const kv = kvClient(member.endpoint);
  try {
    const put = await kv.put({ key: bytes('traced'), value: bytes('v') });
    await kv.range({ key: bytes('traced') });
    const spans = await waitFor(() => {
      const done = byName(receiver.spans, 'etcdserverpb.KV/Put').length > 0 && byName(receiver.spans, 'etcdserverpb.KV/Range').length > 0;
      return done && receiver.spans.some((s) => s.name === 'apply') ? receiver.spans : undefined;
    }, 20_000, 'the Put and Range spans');

    const [call] = byName(spans, 'etcdserverpb.KV/Put');
    expect(call).toBeDefined();
    if (call === undefined) return;
    const trace = spans.filter((s) => s.traceId === call.traceId);
    // One trace: the call is its root, everything else hangs below it.
    expect(call.parentSpanId).toBe('');
    expect(trace.map((s) => s.name).sort()).toEqual(['apply', 'etcdserverpb.KV/Put', 'propose', 'raft.commit', 'respond']);
    const one = (name: string): ReceivedSpan => trace.find((s) => s.name === name) as ReceivedSpan;
    const [propose, commit, apply, respond] = [one('propose'), one('raft.commit'), one('apply'), one('respond')];
    expect(propose.parentSpanId).toBe(call.spanId);
    expect(respond.parentSpanId).toBe(call.spanId);
    expect(commit.parentSpanId).toBe(propose.spanId);
    expect(apply.parentSpanId).toBe(propose.spanId);

    // The member, the Raft position and the revision as attributes.
    const revision = Number(put.header?.revision);
    expect(call.attributes).toMatchObject({ 'rpc.system': 'grpc', 'rpc.service': 'etcdserverpb.KV', 'rpc.method': 'Put', 'etcd.revision': revision, 'rpc.grpc.status_code': 0 });
    expect(call.attributes['etcd.member_id']).toMatch(/^[0-9a-f]+$/);
    expect(propose.attributes).toMatchObject({ 'etcd.member_id': call.attributes['etcd.member_id'], 'etcd.revision': revision });
    expect(propose.attributes['raft.index']).toBeGreaterThan(0);
    expect(propose.attributes['raft.term']).toBeGreaterThan(0);
    expect(commit.attributes['raft.index']).toBe(propose.attributes['raft.index']);
    expect(call.resource).toMatchObject({ 'service.name': 'corvid-test', 'service.instance.id': call.attributes['etcd.member_id'] });

    // Time order: the call encloses propose; commit precedes apply; the response comes after apply.
    expect(call.startNs).toBeLessThanOrEqual(propose.startNs);
    expect(propose.endNs).toBeLessThanOrEqual(call.endNs);
    expect(commit.endNs).toBeLessThanOrEqual(apply.startNs);
    expect(apply.endNs).toBeLessThanOrEqual(respond.startNs);
    expect(respond.endNs).toBeLessThanOrEqual(call.endNs);

    // A linearizable read is its own trace: no proposal.
    const [range] = byName(spans, 'etcdserverpb.KV/Range');
    expect(range?.traceId).not.toBe(call.traceId);
    expect(spans.filter((s) => s.traceId === range?.traceId).map((s) => s.name).sort()).toEqual(['etcdserverpb.KV/Range', 'respond']);

    // A caller's trace context (W3C traceparent in the call's metadata) continues into the member.
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpanId = '00f067aa0ba902b7';
    const raw = new etcdserverpb.KVClient(member.endpoint, credentials.createInsecure());
    const metadata = new Metadata();
    metadata.set('traceparent', `00-${traceId}-${callerSpanId}-01`);
    await new Promise<void>((resolve, reject) => {
      raw.put(etcdserverpb.PutRequest.fromPartial({ key: bytes('traced-by-caller'), value: bytes('v') }), metadata, (err) => (err ? reject(err) : resolve()));
    });
    raw.close();
    const continued = await waitFor(() => {
      const inTrace = receiver.spans.filter((s) => s.traceId === traceId);
      return inTrace.some((s) => s.name === 'apply') && inTrace.some((s) => s.name === 'etcdserverpb.KV/Put') ? inTrace : undefined;
    }, 20_000, 'the spans of the caller\'s trace');
    expect(continued.find((s) => s.name === 'etcdserverpb.KV/Put')?.parentSpanId).toBe(callerSpanId);
    expect(continued.map((s) => s.name).sort()).toEqual(['apply', 'etcdserverpb.KV/Put', 'propose', 'raft.commit', 'respond']);
  } finally {
    kv.close();
  }
});
