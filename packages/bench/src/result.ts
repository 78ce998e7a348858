// The result of one run, as both generators report it, and its text and JSON forms (etcd benchmark's layout).
import type { LatencyHistogram } from './histogram.js';
import type { Workload } from './options.js';

export interface LatencySummaryMs {
  readonly min: number;
  readonly avg: number;
  /** Percentiles are null when the generator could not time each request. */
  readonly p50: number | null;
  readonly p90: number | null;
  readonly p99: number | null;
  readonly p999: number | null;
  readonly max: number;
}

export interface BenchResult {
  readonly workload: Workload;
  readonly generator: 'h2load' | 'node';
  readonly endpoints: readonly string[];
  readonly clients: number;
  readonly conns: number;
  readonly requests: { readonly total: number; readonly succeeded: number; readonly failed: number };
  /** Failure reasons with their counts (gRPC status or h2load's categories). */
  readonly errors: Readonly<Record<string, number>>;
  readonly elapsedSeconds: number;
  readonly throughputPerSecond: number;
  readonly latencyMs: LatencySummaryMs;
  readonly histogram: readonly { readonly fromMs: number; readonly toMs: number; readonly count: number }[];
  /** The load generator's own CPU over the run (user + system; 1.0 = one core busy the whole run). */
  readonly generatorCpu: { readonly userSeconds: number; readonly systemSeconds: number; readonly cores: number };
  /** Workload-specific counts (watch: puts made and watchers; lease-keepalive: leases). */
  readonly extra?: Readonly<Record<string, number>>;
}

const HISTOGRAM_BINS = 10;

export function summarize(h: LatencyHistogram): { latencyMs: LatencySummaryMs; histogram: BenchResult['histogram'] } {
  const ms = (us: number): number => us / 1000;
  return {
    latencyMs: {
      min: ms(h.minUs),
      avg: ms(h.meanUs),
      p50: ms(h.percentileUs(50)),
      p90: ms(h.percentileUs(90)),
      p99: ms(h.percentileUs(99)),
      p999: ms(h.percentileUs(99.9)),
      max: ms(h.maxUs),
    },
    histogram: h.count === 0 ? [] : h.linearBins(HISTOGRAM_BINS).map((b) => ({ fromMs: ms(b.fromUs), toMs: ms(b.toUs), count: b.count })),
  };
}

function fmt(ms: number | null): string {
  return ms === null ? 'n/a' : `${(ms / 1000).toFixed(4)} secs`;
}

/** The text report, laid out as etcd's `benchmark` prints it. */
export function formatText(r: BenchResult): string {
  const lines = [
    `Summary (${r.workload}, ${r.generator}, ${r.clients} clients over ${r.conns} conns, ${r.endpoints.join(',')}):`,
    `  Total:\t${r.elapsedSeconds.toFixed(4)} secs.`,
    `  Slowest:\t${fmt(r.latencyMs.max)}.`,
    `  Fastest:\t${fmt(r.latencyMs.min)}.`,
    `  Average:\t${fmt(r.latencyMs.avg)}.`,
    `  Requests/sec:\t${r.throughputPerSecond.toFixed(4)}`,
    `  Requests:\t${r.requests.total} total, ${r.requests.succeeded} succeeded, ${r.requests.failed} failed`,
    `  Generator CPU:\t${r.generatorCpu.userSeconds.toFixed(2)}s user, ${r.generatorCpu.systemSeconds.toFixed(2)}s sys (${r.generatorCpu.cores.toFixed(2)} cores)`,
  ];
  for (const [k, v] of Object.entries(r.extra ?? {})) lines.push(`  ${k}:\t${v}`);
  const errs = Object.entries(r.errors);
  if (errs.length > 0) lines.push('', 'Errors:', ...errs.map(([k, n]) => `  ${k}: ${n}`));
  if (r.histogram.length > 0) {
    const most = Math.max(...r.histogram.map((b) => b.count));
    lines.push('', 'Response time histogram:');
    for (const b of r.histogram) {
      const bar = most === 0 ? '' : '∎'.repeat(Math.round((40 * b.count) / most));
      lines.push(`  ${(b.toMs / 1000).toFixed(4)} [${b.count}]\t|${bar}`);
    }
  }
  lines.push('', 'Latency distribution:');
  const p: [string, number | null][] = [['50', r.latencyMs.p50], ['90', r.latencyMs.p90], ['99', r.latencyMs.p99], ['99.9', r.latencyMs.p999]];
  for (const [name, v] of p) lines.push(`  ${name}% in ${fmt(v)}.`);
  return lines.join('\n');
}
