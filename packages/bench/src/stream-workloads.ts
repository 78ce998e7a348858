// The workloads that run over gRPC streams, as etcd's benchmark has them:
// - watch / watch-latency: --streams watch streams (over --conns connections), --watch-per-stream watchers each on
//   keys of the key space; then --clients put loops (at --rate, for --total puts or --duration) on the same keys.
//   Each put carries its send time in its value, so every event received gives the latency from put to event.
//   Throughput is events received per second; latency is put-sent → event-received. watch-latency is the same with
//   etcd's default put rate of 100/s. Both also report the server's resident memory (from its /metrics) before the
//   watchers are created, once they are, and after the puts, and how long creating them took: with --streams 1
//   --watch-per-stream 10000 or --streams 1000 --watch-per-stream 1 this is issue 5's watch-scale benchmark.
// - lease-keepalive: --clients loops, each with a lease of its own (TTL 100 s) and a keepalive stream; each sends
//   a keepalive and waits for its answer. Throughput is keepalives per second; latency is the round trip.
// They run in this process (one event loop receives every event); the result states the CPU it used.
import grpc from '@grpc/grpc-js';
import { etcdserverpb } from '@corvid/proto';
import { LatencyHistogram } from './histogram.js';
import type { BenchOptions } from './options.js';
import { pacer } from './pacer.js';
import { benchKey, keyIndex } from './requests.js';
import { summarize, type BenchResult } from './result.js';
import { residentMiB } from './server-memory.js';

const LEASE_TTL_SECONDS = 100n;
const CALL_DEADLINE_MS = 30_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Window { readonly measureFrom: number; readonly stopAt: number; readonly timed: boolean }

function window(o: BenchOptions): Window {
  const start = performance.now();
  const timed = o.durationSeconds > 0;
  const measureFrom = start + (timed ? o.warmupSeconds * 1000 : 0);
  return { measureFrom, stopAt: timed ? measureFrom + o.durationSeconds * 1000 : start + 600_000, timed };
}

/** A value of valSize (at least 8) bytes whose first 8 hold the send time (performance.timeOrigin-based ms). */
function stampedValue(valSize: number): Buffer {
  const v = Buffer.alloc(Math.max(8, valSize), 0x61);
  v.writeDoubleBE(performance.timeOrigin + performance.now(), 0);
  return v;
}

function result(o: BenchOptions, h: LatencyHistogram, counted: number, failed: number, errors: Record<string, number>, seconds: number,
  cpu0: NodeJS.CpuUsage, wall0: number, extra: Record<string, number>): BenchResult {
  const cpu = process.cpuUsage(cpu0);
  const wallSeconds = (performance.now() - wall0) / 1000;
  const { latencyMs, histogram } = summarize(h);
  return {
    workload: o.workload, generator: 'node', endpoints: o.endpoints, clients: o.clients, conns: o.conns,
    requests: { total: counted + failed, succeeded: counted, failed }, errors, elapsedSeconds: seconds,
    throughputPerSecond: seconds > 0 ? counted / seconds : 0, latencyMs, histogram,
    generatorCpu: { userSeconds: cpu.user / 1e6, systemSeconds: cpu.system / 1e6, cores: (cpu.user + cpu.system) / 1e6 / wallSeconds },
    extra,
  };
}

function countError(errors: Record<string, number>, err: grpc.ServiceError | Error): void {
  const key = 'code' in err ? `${grpc.status[err.code] ?? err.code}: ${err.details}` : err.message;
  errors[key] = (errors[key] ?? 0) + 1;
}

/** One client of `Ctor` per connection, round-robin over the endpoints, each on its own TCP connection. */
function perConnection<C>(o: BenchOptions, Ctor: new (address: string, creds: grpc.ChannelCredentials, options: grpc.ChannelOptions) => C): C[] {
  return Array.from({ length: o.conns }, (_, i) => new Ctor(o.endpoints[i % o.endpoints.length]!, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
}

export async function runWatch(o: BenchOptions): Promise<BenchResult> {
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  const watchClients = perConnection(o, etcdserverpb.WatchClient);
  const kvClients = perConnection(o, etcdserverpb.KVClient);
  const h = new LatencyHistogram();
  const errors: Record<string, number> = {};
  let events = 0;
  let puts = 0;
  let failed = 0;
  let w: Window = window(o);
  const streams: Array<grpc.ClientDuplexStream<etcdserverpb.WatchRequest, etcdserverpb.WatchResponse>> = [];
  const memory = { residentMiBBefore: await residentMiB(o.endpoints[0]!), residentMiBWatching: Number.NaN, residentMiBAfterPuts: Number.NaN, createSeconds: Number.NaN };
  try {
    const created0 = performance.now();
    // Watchers first, each created before the puts start (etcd's benchmark waits for every created response too).
    let created = 0;
    const allCreated = new Promise<void>((resolve, reject) => {
      for (let s = 0; s < o.streams; s++) {
        const stream = watchClients[s % watchClients.length]!.watch();
        streams.push(stream);
        stream.on('data', (r: etcdserverpb.WatchResponse) => {
          if (r.created) {
            created++;
            if (created === o.streams * o.watchPerStream) resolve();
          }
          const now = performance.timeOrigin + performance.now();
          for (const ev of r.events) {
            const v = ev.kv?.value;
            if (v === undefined || v.length < 8) continue;
            const sentAt = Buffer.from(v.buffer, v.byteOffset, v.byteLength).readDoubleBE(0);
            if (sentAt - performance.timeOrigin < w.measureFrom || (w.timed && sentAt - performance.timeOrigin > w.stopAt)) continue;
            events++;
            h.record((now - sentAt) * 1000);
          }
        });
        stream.on('error', (err: grpc.ServiceError) => { if (err.code !== grpc.status.CANCELLED) reject(err); });
        for (let k = 0; k < o.watchPerStream; k++) {
          const key = benchKey((s * o.watchPerStream + k) % o.keySpaceSize, o.keySize);
          stream.write({ requestUnion: { $case: 'createRequest', value: etcdserverpb.WatchCreateRequest.fromPartial({ key }) } });
        }
      }
    });
    await allCreated;
    memory.createSeconds = (performance.now() - created0) / 1000;
    memory.residentMiBWatching = await residentMiB(o.endpoints[0]!);
    w = window(o);
    const nextSlot = pacer(o.rate);
    let issued = 0;
    const loop = async (c: number): Promise<void> => {
      const client = kvClients[c % kvClients.length]!;
      while (performance.now() < w.stopAt && (w.timed || issued < o.total)) {
        const i = issued++;
        await nextSlot();
        const request = etcdserverpb.PutRequest.fromPartial({ key: benchKey(keyIndex(o, i, Math.random), o.keySize), value: stampedValue(o.valSize) });
        const err = await new Promise<grpc.ServiceError | null>((resolve) => client.put(request, new grpc.Metadata(), { deadline: Date.now() + CALL_DEADLINE_MS }, (e) => resolve(e)));
        if (err === null) puts++;
        else { failed++; countError(errors, err); }
      }
    };
    await Promise.all(Array.from({ length: o.clients }, (_, c) => loop(c)));
    await sleep(500); // the last events in flight
    memory.residentMiBAfterPuts = await residentMiB(o.endpoints[0]!);
  } finally {
    for (const s of streams) s.cancel();
    for (const c of [...watchClients, ...kvClients]) c.close();
  }
  const seconds = (Math.min(performance.now(), w.stopAt) - w.measureFrom) / 1000;
  return result(o, h, events, failed, errors, seconds, cpu0, wall0, { puts, watchers: o.streams * o.watchPerStream, ...memory });
}

export async function runLeaseKeepalive(o: BenchOptions): Promise<BenchResult> {
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  const clients = perConnection(o, etcdserverpb.LeaseClient);
  const h = new LatencyHistogram();
  const errors: Record<string, number> = {};
  let ok = 0;
  let failed = 0;
  let issued = 0;
  const streams: Array<grpc.ClientDuplexStream<etcdserverpb.LeaseKeepAliveRequest, etcdserverpb.LeaseKeepAliveResponse>> = [];
  const grants = await Promise.all(Array.from({ length: o.clients }, (_, c) => new Promise<bigint>((resolve, reject) => {
    clients[c % clients.length]!.leaseGrant(etcdserverpb.LeaseGrantRequest.fromPartial({ TTL: LEASE_TTL_SECONDS }), new grpc.Metadata(),
      { deadline: Date.now() + CALL_DEADLINE_MS }, (err, r) => (err === null ? resolve(r.ID) : reject(err)));
  })));
  const w = window(o);
  const nextSlot = pacer(o.rate);
  try {
    await Promise.all(grants.map(async (id, c) => {
      const stream = clients[c % clients.length]!.leaseKeepAlive();
      streams.push(stream);
      let answer: ((r: etcdserverpb.LeaseKeepAliveResponse | Error) => void) | null = null;
      stream.on('data', (r: etcdserverpb.LeaseKeepAliveResponse) => answer?.(r));
      stream.on('error', (err: Error) => answer?.(err));
      while (performance.now() < w.stopAt && (w.timed || issued < o.total)) {
        issued++;
        await nextSlot();
        const t0 = performance.now();
        const r = await new Promise<etcdserverpb.LeaseKeepAliveResponse | Error>((resolve) => {
          answer = resolve;
          stream.write(etcdserverpb.LeaseKeepAliveRequest.fromPartial({ ID: id }));
        });
        const t1 = performance.now();
        if (r instanceof Error) { failed++; countError(errors, r); break; }
        if (t0 < w.measureFrom || (w.timed && t1 > w.stopAt)) continue;
        if (r.TTL > 0n) { ok++; h.record((t1 - t0) * 1000); } else { failed++; countError(errors, new Error('lease not found (TTL -1)')); }
      }
    }));
  } finally {
    for (const s of streams) s.cancel();
    for (const c of clients) c.close();
  }
  const seconds = (Math.min(performance.now(), w.stopAt) - w.measureFrom) / 1000;
  return result(o, h, ok, failed, errors, seconds, cpu0, wall0, { leases: grants.length });
}
