// bench:compare --watch-scale: issue 5's watch scale, for each server in alternation: 10,000 watchers on one stream,
// then 1,000 streams of one watcher each (over 10 connections); each watcher on a key of its own, puts at etcd's
// watch-latency rate (100/s) on random watched keys, so every put is one event. Reports put→event latency and the
// server's resident memory before the watchers, with them, and after the puts.
import { loadavg } from 'node:os';
import { DEFAULT_OPTIONS, type BenchOptions } from '../options.js';
import { runBench } from '../run.js';
import type { CompareArgs } from './main.js';
import type { RunningServer } from './servers.js';

interface Shape { readonly name: string; readonly options: Partial<BenchOptions> }

export const WATCH_SCALE_SHAPES: readonly Shape[] = [
  { name: '10,000 watchers on 1 stream', options: { streams: 1, watchPerStream: 10_000, keySpaceSize: 10_000, conns: 1, clients: 10 } },
  { name: '1,000 streams × 1 watcher', options: { streams: 1000, watchPerStream: 1, keySpaceSize: 1000, conns: 10, clients: 10 } },
];

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
        const r = await runBench(o);
        const x = r.extra ?? {};
        console.log(`| ${s.name} | ${shape.name} | ${round} | ${f(x.createSeconds, 2)} | ${f(x.residentMiBBefore)} | ${f(x.residentMiBWatching)} | ` +
          `${f(x.residentMiBAfterPuts)} | ${f(r.throughputPerSecond)} | ${f(r.latencyMs.p50, 2)} | ${f(r.latencyMs.p99, 2)} | ${f(r.latencyMs.max, 1)} | ` +
          `${r.requests.failed} | ${f(loadavg()[0], 2)} |`);
      }
    }
  }
}
