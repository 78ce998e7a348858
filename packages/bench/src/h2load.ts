// Drives h2load (nghttp2's C load generator) with one pre-encoded gRPC request and parses what it prints: its
// summary, its --log-file of per-request timings (for percentiles) and the CPU it used (bash's `times`).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LatencyHistogram } from './histogram.js';
import type { BenchOptions } from './options.js';
import { summarize, type BenchResult } from './result.js';

/** What h2load's stdout says. Times are in milliseconds. */
export interface H2loadSummary {
  readonly elapsedSeconds: number;
  readonly requestsPerSecond: number;
  readonly total: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly errored: number;
  readonly timeout: number;
  readonly status2xx: number;
  readonly requestTimeMs: { readonly min: number; readonly max: number; readonly mean: number; readonly sd: number };
}

/** h2load prints durations as 192us, 3.88ms or 1.02s. */
export function parseH2loadDurationMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text.trim());
  if (m === null) throw new Error(`unparseable h2load duration ${text}`);
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 'ms' ? n : n * 1000;
}

export function parseH2loadOutput(stdout: string): H2loadSummary {
  const finished = /finished in ([\d.]+(?:us|ms|s)), ([\d.]+) req\/s/.exec(stdout);
  const requests = /requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(stdout);
  const status = /status codes: (\d+) 2xx/.exec(stdout);
  const time = /time for request:\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)/.exec(stdout);
  if (finished === null || requests === null || status === null || time === null) {
    throw new Error(`h2load output not understood:\n${stdout.slice(-2000)}`);
  }
  return {
    elapsedSeconds: parseH2loadDurationMs(finished[1]!) / 1000,
    requestsPerSecond: Number(finished[2]),
    total: Number(requests[1]),
    succeeded: Number(requests[2]),
    failed: Number(requests[3]),
    errored: Number(requests[4]),
    timeout: Number(requests[5]),
    status2xx: Number(status[1]),
    requestTimeMs: {
      min: parseH2loadDurationMs(time[1]!),
      max: parseH2loadDurationMs(time[2]!),
      mean: parseH2loadDurationMs(time[3]!),
      sd: parseH2loadDurationMs(time[4]!),
    },
  };
}

/** Rows of --log-file: start (µs since epoch) \t HTTP status \t µs to the end of the response. */
export function parseH2loadLog(text: string, into: LatencyHistogram): { rows: number; non200: number } {
  let rows = 0;
  let non200 = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const cols = line.split('\t');
    const latency = Number(cols[2]);
    if (cols.length < 3 || !Number.isFinite(latency)) continue;
    rows += 1;
    if (cols[1] !== '200') non200 += 1;
    into.record(latency);
  }
  return { rows, non200 };
}

/** bash's `times` prints two lines (shell, then children) of "<user>m<s>s <sys>m<s>s"; we want the children's. */
export function parseBashTimes(stderr: string): { userSeconds: number; systemSeconds: number } | null {
  const lines = stderr.trim().split('\n').filter((l) => /^\d+m[\d.]+s \d+m[\d.]+s$/.test(l.trim()));
  const last = lines[lines.length - 1];
  if (last === undefined) return null;
  const [u, s] = last.trim().split(' ').map((t) => {
    const m = /^(\d+)m([\d.]+)s$/.exec(t)!;
    return Number(m[1]) * 60 + Number(m[2]);
  });
  return { userSeconds: u ?? 0, systemSeconds: s ?? 0 };
}

/** h2load arguments: conns connections, each with ceil(clients/conns) streams in flight, one thread. */
export function h2loadArgs(o: BenchOptions, url: string, bodyFile: string, logFile: string): string[] {
  const streamsPerConn = Math.ceil(o.clients / o.conns);
  const args = ['-c', String(o.conns), '-m', String(streamsPerConn), '-t', '1', '-d', bodyFile,
    '-H', 'content-type: application/grpc', '-H', 'te: trailers', `--log-file=${logFile}`];
  if (o.durationSeconds > 0) {
    args.push('-D', String(o.durationSeconds));
    if (o.warmupSeconds > 0) args.push(`--warm-up-time=${o.warmupSeconds}`);
  } else {
    args.push('-n', String(o.total));
  }
  if (o.rate > 0) args.push(`--rps=${Math.max(1, Math.round(o.rate / o.conns))}`);
  args.push(url);
  return args;
}

/** Temp dirs and children of runs in progress, so `stopH2loadRuns` can clean up on a signal (process.exit skips
 * the `finally` blocks below). */
const activeDirs = new Set<string>();
const activeChildren = new Set<ChildProcess>();

/** Kills running h2load children and removes their temp dirs. Synchronous, for exit and signal handlers. */
export function stopH2loadRuns(): void {
  for (const c of activeChildren) killGroup(c);
  activeChildren.clear();
  for (const d of activeDirs) rmSync(d, { recursive: true, force: true });
  activeDirs.clear();
}

/** Runs h2load once against the first endpoint with `frame` as every request's body. */
export async function runH2load(o: BenchOptions, path: string, frame: Buffer): Promise<BenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'corvid-bench-'));
  activeDirs.add(dir);
  try {
    const bodyFile = join(dir, 'body.bin');
    const logFile = join(dir, 'requests.tsv');
    writeFileSync(bodyFile, frame);
    const args = h2loadArgs(o, `http://${o.endpoints[0]!}${path}`, bodyFile, logFile);
    // Hard cap: the run's own length plus a minute, so a stuck server cannot hang the tool.
    const capMs = ((o.durationSeconds > 0 ? o.durationSeconds + o.warmupSeconds : 600) + 60) * 1000;
    const { code, stdout, stderr } = await spawnCollect('bash', ['-c', 'h2load "$@"; rc=$?; times >&2; exit $rc', 'h2load', ...args], capMs);
    if (code !== 0) throw new Error(`h2load exited with ${code}: ${stderr.slice(-1000)}${stdout.slice(-1000)}`);
    const summary = parseH2loadOutput(stdout);
    const h = new LatencyHistogram();
    const log = parseH2loadLog(readFileSync(logFile, 'utf8'), h);
    const cpu = parseBashTimes(stderr) ?? { userSeconds: 0, systemSeconds: 0 };
    // With -D, h2load's "status codes" tally can differ from its request counts by the requests in flight at the
    // window's edges, so success is h2load's "succeeded" (finished with a 2xx) and failure the rest.
    const failed = summary.total - summary.succeeded;
    const errors: Record<string, number> = {};
    if (summary.failed > 0) errors['h2load failed'] = summary.failed;
    if (summary.errored > 0) errors['h2load errored'] = summary.errored;
    if (summary.timeout > 0) errors['h2load timeout'] = summary.timeout;
    if (log.non200 > 0) errors['HTTP status other than 200'] = log.non200;
    const elapsed = o.durationSeconds > 0 ? o.durationSeconds : summary.elapsedSeconds;
    const { latencyMs, histogram } = summarize(h);
    return {
      workload: o.workload,
      generator: 'h2load',
      endpoints: [o.endpoints[0]!],
      clients: o.conns * Math.ceil(o.clients / o.conns),
      conns: o.conns,
      requests: { total: summary.total, succeeded: summary.succeeded, failed },
      errors,
      elapsedSeconds: elapsed,
      throughputPerSecond: summary.requestsPerSecond,
      latencyMs: h.count > 0 ? latencyMs : { min: summary.requestTimeMs.min, avg: summary.requestTimeMs.mean, p50: null, p90: null, p99: null, p999: null, max: summary.requestTimeMs.max },
      histogram,
      generatorCpu: { ...cpu, cores: elapsed > 0 ? (cpu.userSeconds + cpu.systemSeconds) / (elapsed + (o.durationSeconds > 0 ? o.warmupSeconds : 0)) : 0 },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    activeDirs.delete(dir);
  }
}

/** SIGKILLs the process group led by `child` (spawned detached), falling back to the child alone. */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    child.kill('SIGKILL');
  }
}

/** Spawns a command, collects its output, kills it (by pid) if it outlives `capMs`. */
export function spawnCollect(cmd: string, args: readonly string[], capMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // Its own process group, so a kill reaches h2load under the bash wrapper too.
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    activeChildren.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => killGroup(child), capMs);
    child.on('error', (err) => { clearTimeout(timer); activeChildren.delete(child); reject(err); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      activeChildren.delete(child);
      resolve({ code: code ?? (signal === null ? 1 : 128), stdout, stderr });
    });
  });
}
