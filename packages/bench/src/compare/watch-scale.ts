// bench:compare --watch-scale: issue 5's watch scale, for each server in alternation: 10,000 watchers on one stream,
// then 1,000 streams of one watcher each (over 10 connections); each watcher on a key of its own, puts at etcd's
// watch-latency rate (100/s) on random watched keys, so every put is one event. Reports put→event latency and the
// server's resident memory before the watchers, with them, and after the puts. A third shape has both at once: 1,000
// streams of one watcher (on the first 1,000 keys, so their events go out too) opened and held first, then the
// 10,000-watcher stream measured as above; its "before" column is the server before either.
import { loadavg } from 'node:os';
import grpc from '@grpc/grpc-js';
import { etcdserverpb } from '@corvid/proto';
import { DEFAULT_OPTIONS, type BenchOptions } from '../options.js';
import { benchKey } from '../requests.js';
import { runBench } from '../run.js';
import { residentMiB } from '../server-memory.js';
import type { CompareArgs } from './main.js';
import type { RunningServer } from './servers.js';

interface Shape { readonly name: string; readonly options: Partial<BenchOptions>; readonly heldStreams?: number }

export const WATCH_SCALE_SHAPES: readonly Shape[] = [
  { name: '10,000 watchers on 1 stream', options: { streams: 1, watchPerStream: 10_000, keySpaceSize: 10_000, conns: 1, clients: 10 } },
  { name: '1,000 streams × 1 watcher', options: { streams: 1000, watchPerStream: 1, keySpaceSize: 1000, conns: 10, clients: 10 } },
  { name: 'both: 1,000 streams held + 10,000 watchers on 1 stream', heldStreams: 1000,
    options: { streams: 1, watchPerStream: 10_000, keySpaceSize: 10_000, conns: 1, clients: 10 } },
];

const HELD_CONNS = 10;
const CREATE_DEADLINE_MS = 60_000;

/** Opens `n` streams of one watcher each (key i of the bench key space) over HELD_CONNS connections, reading and
 * dropping their events; resolves once every watcher is created, with a function that closes them all. */
async function holdStreams(endpoint: string, n: number): Promise<() => void> {
  const clients = Array.from({ length: HELD_CONNS }, () => new etcdserverpb.WatchClient(endpoint, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
  const streams = clients.flatMap((c, k) => Array.from({ length: Math.ceil((n - k) / HELD_CONNS) }, () => c.watch()));
  const close = (): void => {
    for (const st of streams) st.cancel();
    for (const c of clients) c.close();
  };
  try {
    await new Promise<void>((resolve, reject) => {
      let created = 0;
      const timer = setTimeout(() => reject(new Error(`${created} of ${n} held watchers created in ${CREATE_DEADLINE_MS} ms`)), CREATE_DEADLINE_MS);
      streams.forEach((st, i) => {
        st.on('data', (r: etcdserverpb.WatchResponse) => { if (r.created && ++created === n) { clearTimeout(timer); resolve(); } });
        st.on('error', (err: grpc.ServiceError) => { if (err.code !== grpc.status.CANCELLED) { clearTimeout(timer); reject(err); } });
        st.write({ requestUnion: { $case: 'createRequest', value: etcdserverpb.WatchCreateRequest.fromPartial({ key: benchKey(i, DEFAULT_OPTIONS.keySize) }) } });
      });
    });
  } catch (err) {
    close();
    throw err;
  }
  return close;
}

const f = (n: number | null | undefined, d = 0): string => (n !== null && n !== undefined && Number.isFinite(n) ? n.toFixed(d) : 'n/a');

export async function runWatchScale(servers: readonly RunningServer[], args: CompareArgs): Promise<void> {
  console.log('| server | shape | round | create s | RSS MiB before | RSS MiB watching | RSS MiB after puts | events/s | p50 ms | p99 ms | max ms | failed | load1 |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  // --only picks one shape, so each can be measured on fresh servers (a server's resident size does not fall back
  // at once when the previous shape's watchers go).
  for (const shape of WATCH_SCALE_SHAPES.filter((x) => args.only === null || x.name.includes(args.only))) {
    for (let round = 1; round <= args.rounds; round++) {
      for (const s of servers) {
        const o: BenchOptions = { ...DEFAULT_OPTIONS, workload: 'watch-latency', rate: 100, valSize: 256, ...shape.options,
          endpoints: [s.endpoint], durationSeconds: args.durationSeconds, warmupSeconds: args.warmupSeconds };
        const before = await residentMiB(s.endpoint);
        const release = shape.heldStreams === undefined ? () => undefined : await holdStreams(s.endpoint, shape.heldStreams);
        let r;
        try {
          r = await runBench(o);
        } finally {
          release();
        }
        const x = r.extra ?? {};
        console.log(`| ${s.name} | ${shape.name} | ${round} | ${f(x.createSeconds, 2)} | ${f(before)} | ${f(x.residentMiBWatching)} | ` +
          `${f(x.residentMiBAfterPuts)} | ${f(r.throughputPerSecond)} | ${f(r.latencyMs.p50, 2)} | ${f(r.latencyMs.p99, 2)} | ${f(r.latencyMs.max, 1)} | ` +
          `${r.requests.failed} | ${f(loadavg()[0], 2)} |`);
      }
    }
  }
}
