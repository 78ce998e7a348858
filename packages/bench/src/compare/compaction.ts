// bench:compare --compaction: issue 6's compaction and memory figures. Per server (etcd, then Corvid): preload
// 1,000,000 keys of 256 bytes, read the member's resident size (/proc/<pid>/status VmRSS), put every key once more
// (1,000,000 superseded versions for compaction to remove; txns of 128 puts, so about 7,800 main revisions), run
// the put workload (64 clients, 256 B) alone, then compact at the current revision and run it again at once, while
// the compaction removes the old versions in the background; prints put/s and p99 of both runs, their ratio and the
// resident size. One round per server (a compaction happens once).
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import grpc from '@grpc/grpc-js';
import { etcdserverpb } from '@corvid/proto';
import { preloadKeys } from '../long-reads.js';
import { DEFAULT_OPTIONS, type BenchOptions } from '../options.js';
import { runBench } from '../run.js';
import type { CompareArgs } from './main.js';
import type { RunningServer } from './servers.js';

const KEYS = 1_000_000;
const VALUE_BYTES = 256;
const PUT: Partial<BenchOptions> = { workload: 'put', clients: 64, conns: 8, valSize: 256 };

const compactionKey = (i: number): Buffer => Buffer.from(`compaction/${String(i).padStart(7, '0')}`);

function residentMiB(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? Number.NaN : Number(m[1]) / 1024;
}

function unary<R>(run: (cb: (err: grpc.ServiceError | null, r: R) => void) => void): Promise<R> {
  return new Promise((resolve, reject) => run((err, r) => (err === null ? resolve(r) : reject(err))));
}

/** Compacts at the current revision (not physical: the old revisions go in the background) and returns it. */
async function compactNow(endpoint: string): Promise<bigint> {
  const kv = new etcdserverpb.KVClient(endpoint, grpc.credentials.createInsecure());
  try {
    const deadline = { deadline: Date.now() + 60_000 };
    const r = await unary<etcdserverpb.RangeResponse>((cb) => kv.range(etcdserverpb.RangeRequest.fromPartial({ key: Buffer.from('x'), countOnly: true }), new grpc.Metadata(), deadline, cb));
    const revision = r.header?.revision ?? 0n;
    await unary<etcdserverpb.CompactionResponse>((cb) => kv.compact(etcdserverpb.CompactionRequest.fromPartial({ revision }), new grpc.Metadata(), deadline, cb));
    return revision;
  } finally {
    kv.close();
  }
}

const f = (n: number, d = 0): string => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

export async function runCompaction(servers: readonly RunningServer[], args: CompareArgs): Promise<void> {
  console.log('| server | resident MiB after 1M keys of 256 B | put/s alone | put/s while compacting 1M versions | p99 ms alone | p99 ms while compacting | p99 ratio | load1 |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const s of servers) {
    const t0 = performance.now();
    await preloadKeys(s.endpoint, KEYS, VALUE_BYTES, compactionKey);
    const rss = residentMiB(s.child.pid);
    console.error(`${s.name}: preloaded ${KEYS} keys of ${VALUE_BYTES} B in ${((performance.now() - t0) / 1000).toFixed(1)} s, resident ${f(rss)} MiB`);
    await preloadKeys(s.endpoint, KEYS, VALUE_BYTES, compactionKey); // the versions compaction will remove
    const o: BenchOptions = { ...DEFAULT_OPTIONS, ...PUT, endpoints: s.endpoints, targetLeader: s.endpoints.length > 1,
      durationSeconds: args.durationSeconds, warmupSeconds: args.warmupSeconds };
    const alone = await runBench(o);
    const revision = await compactNow(s.endpoint);
    const during = await runBench({ ...o, warmupSeconds: 0 });
    const load1 = loadavg()[0]!;
    console.error(`${s.name}: compacted at ${revision}; put alone ${f(alone.throughputPerSecond)}/s p99 ${f(alone.latencyMs.p99 ?? Number.NaN, 2)} ms, ` +
      `while compacting ${f(during.throughputPerSecond)}/s p99 ${f(during.latencyMs.p99 ?? Number.NaN, 2)} ms`);
    const pA = alone.latencyMs.p99 ?? Number.NaN;
    const pC = during.latencyMs.p99 ?? Number.NaN;
    console.log(`| ${s.name} | ${f(rss)} | ${f(alone.throughputPerSecond)} | ${f(during.throughputPerSecond)} | ${f(pA, 2)} | ${f(pC, 2)} | ${f(pC / pA, 2)}× | ${f(load1, 2)} |`);
  }
}
