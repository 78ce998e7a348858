// bench:compare --long-reads: preloads each server with the long-reads key set, then for --rounds rounds, etcd then
// Corvid, measures the put workload (64 clients, 256 B values) alone and with 2 full-prefix range loops running, and
// prints per server the medians, the share of put throughput kept and the growth of put p99.
import { loadavg } from 'node:os';
import { LONG_READS_KEYS, preloadLongReads, startRangeLoops, type RangeLoopReport } from '../long-reads.js';
import { DEFAULT_OPTIONS, type BenchOptions } from '../options.js';
import type { BenchResult } from '../result.js';
import { runBench } from '../run.js';
import type { CompareArgs } from './main.js';
import type { RunningServer } from './servers.js';

const RANGE_LOOPS = 2;
const PUT: Partial<BenchOptions> = { workload: 'put', clients: 64, conns: 8, valSize: 256 };

interface Side { alone: BenchResult[]; withReads: BenchResult[]; loops: RangeLoopReport[]; load1: number[] }

function median(xs: readonly number[]): number {
  const s = [...xs].filter(Number.isFinite).sort((x, y) => x - y);
  if (s.length === 0) return Number.NaN;
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const f = (n: number, d = 0): string => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

export async function runLongReads(servers: readonly RunningServer[], args: CompareArgs): Promise<void> {
  for (const s of servers) {
    const t0 = performance.now();
    await preloadLongReads(s.endpoint);
    console.error(`${s.name}: preloaded ${LONG_READS_KEYS} keys of 1 KiB in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const sides = new Map<string, Side>(servers.map((s) => [s.name, { alone: [], withReads: [], loops: [], load1: [] }]));
  for (let round = 0; round < args.rounds; round++) {
    for (const s of servers) {
      const side = sides.get(s.name)!;
      const o: BenchOptions = { ...DEFAULT_OPTIONS, ...PUT, endpoints: s.endpoints, targetLeader: s.endpoints.length > 1,
        durationSeconds: args.durationSeconds, warmupSeconds: args.warmupSeconds };
      const alone = await runBench(o);
      side.alone.push(alone);
      const loops = await startRangeLoops(s.endpoint, RANGE_LOOPS);
      const withReads = await runBench(o);
      const report = await loops.stop();
      side.withReads.push(withReads);
      side.loops.push(report);
      side.load1.push(loadavg()[0]!);
      console.error(`long-reads round ${round + 1} ${s.name}: put alone ${f(alone.throughputPerSecond)}/s p99 ${f(alone.latencyMs.p99 ?? Number.NaN, 2)} ms; ` +
        `with reads ${f(withReads.throughputPerSecond)}/s p99 ${f(withReads.latencyMs.p99 ?? Number.NaN, 2)} ms, ${withReads.requests.failed} failed; ` +
        `${report.ranges} ranges (mean ${f(report.meanMs)} ms, max ${f(report.maxMs)} ms, ${f(report.bytesPerRange / 1e6, 1)} MB each), ${report.failed} failed ` +
        `${JSON.stringify(report.errors)}; load1 ${loadavg()[0]!.toFixed(2)}`);
    }
  }
  const rows = [...sides].map(([name, side]) => {
    const tA = median(side.alone.map((r) => r.throughputPerSecond));
    const tR = median(side.withReads.map((r) => r.throughputPerSecond));
    const pA = median(side.alone.map((r) => r.latencyMs.p99 ?? Number.NaN));
    const pR = median(side.withReads.map((r) => r.latencyMs.p99 ?? Number.NaN));
    const kept = median(side.alone.map((r, i) => side.withReads[i]!.throughputPerSecond / r.throughputPerSecond));
    const growth = median(side.alone.map((r, i) => (side.withReads[i]!.latencyMs.p99 ?? Number.NaN) / (r.latencyMs.p99 ?? Number.NaN)));
    const rangesPerSecond = median(side.loops.map((l) => l.ranges / (args.durationSeconds + args.warmupSeconds)));
    const rangeMs = median(side.loops.map((l) => l.meanMs));
    return { name, tA, tR, kept, pA, pR, growth, rangesPerSecond, rangeMs, load1: side.load1 };
  });
  if (args.json) {
    console.log(JSON.stringify({ rows, sides: Object.fromEntries(sides) }, null, 2));
    return;
  }
  console.log('| server | put/s alone | put/s with reads | kept (median of rounds) | p99 ms alone | p99 ms with reads | p99 growth | ranges/s | range mean ms | load1 |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.name} | ${f(r.tA)} | ${f(r.tR)} | ${f(r.kept * 100)} % | ${f(r.pA, 2)} | ${f(r.pR, 2)} | ${f(r.growth, 2)}× | ${f(r.rangesPerSecond, 2)} | ${f(r.rangeMs)} | ` +
      `${f(Math.min(...r.load1), 2)}–${f(Math.max(...r.load1), 2)} |`);
  }
}
