// bench:compare: starts a fresh etcd 3.4 and a fresh Corvid member, runs each workload against both in alternation
// (etcd, Corvid, etcd, Corvid, ... for --rounds rounds), and prints medians and Corvid/etcd ratios. Everything it
// starts is stopped and its temp dirs removed on success, failure, Ctrl-C and SIGTERM.
import { loadavg } from 'node:os';
import { DEFAULT_OPTIONS, type BenchOptions } from '../options.js';
import type { BenchResult } from '../result.js';
import { runBench } from '../run.js';
import { runCompaction } from './compaction.js';
import { runLeaseExpiryCompare } from './lease-expiry.js';
import { runWatchScale } from './watch-scale.js';
import { runLongReads } from './long-reads.js';
import { startCluster, startCorvid, startEtcd, stopAll, type RunningServer } from './servers.js';

interface CompareWorkload {
  readonly name: string;
  readonly options: Partial<BenchOptions>;
}

/** The figures issue 6 asks for first: put 64 clients 256-byte values; one-key range, linearizable and serializable. */
export const COMPARE_WORKLOADS: readonly CompareWorkload[] = [
  { name: 'put 64 clients, 256 B values', options: { workload: 'put', clients: 64, conns: 8, valSize: 256 } },
  { name: 'range 1 key, 64 clients, linearizable', options: { workload: 'range', clients: 64, conns: 8, valSize: 256, consistency: 'l' } },
  { name: 'range 1 key, 64 clients, serializable', options: { workload: 'range', clients: 64, conns: 8, valSize: 256, consistency: 's' } },
];

export interface CompareArgs {
  durationSeconds: number;
  warmupSeconds: number;
  rounds: number;
  only: string | null;
  json: boolean;
  /** Run the long-reads scenario instead of the workloads. */
  longReads: boolean;
  /** Run the compaction-and-memory scenario instead of the workloads. */
  compaction: boolean;
  /** Run issue 5's lease-expiry scenario (--leases N of --lease-ttl S) instead of the workloads. */
  leaseExpiry: boolean;
  leases: number;
  leaseTtlSeconds: number;
  /** Run issue 5's watch-scale scenario (10,000 watchers on a stream; 1,000 streams) instead of the workloads. */
  watchScale: boolean;
  /** A Corvid build other than packages/node/dist (e.g. a copy of the previous one, for before/after). */
  corvidDist: string | null;
  /** Members per cluster; above 1 every request goes to the leader (--target-leader), as etcd's published figures. */
  members: number;
}

function parseArgs(argv: readonly string[]): CompareArgs {
  const a: CompareArgs = { durationSeconds: 5, warmupSeconds: 1, rounds: 3, only: null, json: false, longReads: false, compaction: false, corvidDist: null, members: 1,
    leaseExpiry: false, leases: 100_000, leaseTtlSeconds: 60, watchScale: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    const value = (): string => inline ?? argv[++i] ?? '';
    if (flag === '--duration') a.durationSeconds = Number(value());
    else if (flag === '--warmup') a.warmupSeconds = Number(value());
    else if (flag === '--rounds') a.rounds = Number(value());
    else if (flag === '--only') a.only = value();
    else if (flag === '--json') a.json = true;
    else if (flag === '--long-reads') a.longReads = true;
    else if (flag === '--compaction') a.compaction = true;
    else if (flag === '--corvid-dist') a.corvidDist = value();
    else if (flag === '--lease-expiry') a.leaseExpiry = true;
    else if (flag === '--leases') a.leases = Number(value());
    else if (flag === '--lease-ttl') a.leaseTtlSeconds = Number(value());
    else if (flag === '--watch-scale') a.watchScale = true;
    else if (flag === '--members') a.members = Number(value());
    else throw new Error(`unknown option ${flag} (known: --duration S --warmup S --rounds N --only SUBSTRING --json --long-reads --compaction --corvid-dist DIR --members N --lease-expiry --leases N --lease-ttl S --watch-scale)`);
  }
  if (!(a.durationSeconds > 0 && a.durationSeconds <= 60)) throw new Error('--duration wants 0 < S ≤ 60');
  if (!(a.warmupSeconds >= 0 && a.warmupSeconds <= 10)) throw new Error('--warmup wants 0 ≤ S ≤ 10');
  if (!(Number.isInteger(a.rounds) && a.rounds >= 1 && a.rounds <= 9)) throw new Error('--rounds wants 1..9');
  if (!(Number.isInteger(a.leases) && a.leases >= 1)) throw new Error('--leases wants a positive integer');
  if (!(Number.isInteger(a.leaseTtlSeconds) && a.leaseTtlSeconds >= 2)) throw new Error('--lease-ttl wants whole seconds ≥ 2 (the minimum TTL)');
  if (!(a.members === 1 || a.members === 3 || a.members === 5)) throw new Error('--members wants 1, 3 or 5');
  return a;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  if (s.length === 0) return Number.NaN;
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

interface Row { workload: string; etcd: BenchResult[]; corvid: BenchResult[]; load1: number[] }

function cell(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}

function table(rows: readonly Row[]): string {
  const head = ['workload', 'etcd req/s', 'corvid req/s', 'ratio', 'etcd p99 ms', 'corvid p99 ms', 'p99 ratio', 'load1 during'];
  const body = rows.map((r) => {
    const eT = median(r.etcd.map((x) => x.throughputPerSecond));
    const cT = median(r.corvid.map((x) => x.throughputPerSecond));
    const eP = median(r.etcd.map((x) => x.latencyMs.p99 ?? Number.NaN));
    const cP = median(r.corvid.map((x) => x.latencyMs.p99 ?? Number.NaN));
    return [r.workload, cell(eT), cell(cT), `${cell(cT / eT, 2)}×`, cell(eP, 2), cell(cP, 2), `${cell(cP / eP, 2)}×`,
      `${cell(Math.min(...r.load1), 2)}–${cell(Math.max(...r.load1), 2)}`];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cols: readonly string[]): string => `| ${cols.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

async function main(argv: readonly string[]): Promise<void> {
  const args = parseArgs(argv);
  const workloads = COMPARE_WORKLOADS.filter((w) => args.only === null || w.name.includes(args.only));
  console.error(`starting etcd and corvid (load average now ${loadavg().map((x) => x.toFixed(2)).join(' ')})`);
  const dist = args.corvidDist ?? undefined;
  const servers: RunningServer[] = args.members === 1
    ? [await startEtcd(), await startCorvid(dist)]
    : [await startCluster('etcd', args.members), await startCluster('corvid', args.members, dist)];
  // A scenario flag runs that scenario instead of the workloads.
  const scenario = args.longReads ? runLongReads : args.compaction ? runCompaction : args.leaseExpiry ? runLeaseExpiryCompare
    : args.watchScale ? runWatchScale : null;
  if (scenario !== null) {
    await scenario(servers, args);
    return;
  }
  const rows: Row[] = [];
  for (const w of workloads) {
    const row: Row = { workload: w.name, etcd: [], corvid: [], load1: [] };
    for (let round = 0; round < args.rounds; round++) {
      for (const s of servers) {
        const o: BenchOptions = { ...DEFAULT_OPTIONS, ...w.options, endpoints: s.endpoints, targetLeader: s.endpoints.length > 1,
          durationSeconds: args.durationSeconds, warmupSeconds: args.warmupSeconds };
        const r = await runBench(o);
        row.load1.push(loadavg()[0]!);
        (s.name === 'etcd' ? row.etcd : row.corvid).push(r);
        console.error(`${w.name} round ${round + 1} ${s.name}: ${r.throughputPerSecond.toFixed(0)} req/s, p99 ${String(r.latencyMs.p99?.toFixed(2))} ms, ` +
          `${r.requests.failed} failed, generator ${r.generatorCpu.cores.toFixed(2)} cores, load1 ${loadavg()[0]!.toFixed(2)}`);
      }
    }
    rows.push(row);
  }
  console.log(args.json ? JSON.stringify(rows, null, 2) : table(rows));
}

process.on('exit', stopAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    console.error(`${sig}: stopping etcd and corvid`);
    stopAll();
    process.exit(130);
  });
}
main(process.argv.slice(2)).then(
  () => { stopAll(); },
  (err: unknown) => {
    console.error(err instanceof Error ? err.stack : err);
    stopAll();
    process.exitCode = 1;
  },
);
