// The Node generator for workloads whose requests differ (many keys): spreads clients and connections over worker
// threads, each with its own grpc-js channels, merges their histograms, and measures the process's CPU use.
import { Worker } from 'node:worker_threads';
import { LatencyHistogram } from './histogram.js';
import type { BenchOptions } from './options.js';
import { summarize, type BenchResult } from './result.js';
import type { WorkerReport, WorkerTask } from './node-worker.js';

/** Splits n into k near-equal non-negative parts. */
export function split(n: number, k: number): number[] {
  return Array.from({ length: k }, (_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0));
}

export async function runNodeGenerator(o: BenchOptions): Promise<BenchResult> {
  const workers = Math.max(1, Math.min(o.workers, o.conns));
  const clients = split(o.clients, workers);
  const conns = split(o.conns, workers);
  const totals = split(o.total, workers);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let firstIndex = 0;
  const reports = await Promise.all(clients.map((c, w) => {
    const task: WorkerTask = { options: o, clients: c, conns: conns[w]!, total: totals[w]!, rate: o.rate / workers, firstIndex };
    firstIndex += totals[w]!;
    return runWorker(task);
  }));
  const wallSeconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const h = new LatencyHistogram();
  const errors: Record<string, number> = {};
  let succeeded = 0;
  let measured = 0;
  for (const r of reports) {
    h.merge(r.histogram);
    succeeded += r.succeeded;
    measured = Math.max(measured, r.measuredSeconds);
    for (const [k, n] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + n;
  }
  const failed = Object.values(errors).reduce((a, b) => a + b, 0);
  const { latencyMs, histogram } = summarize(h);
  const userSeconds = cpu.user / 1e6;
  const systemSeconds = cpu.system / 1e6;
  return {
    workload: o.workload,
    generator: 'node',
    endpoints: o.endpoints,
    clients: o.clients,
    conns: o.conns,
    requests: { total: succeeded + failed, succeeded, failed },
    errors,
    elapsedSeconds: measured,
    throughputPerSecond: measured > 0 ? succeeded / measured : 0,
    latencyMs,
    histogram,
    generatorCpu: { userSeconds, systemSeconds, cores: (userSeconds + systemSeconds) / wallSeconds },
  };
}

function runWorker(task: WorkerTask): Promise<WorkerReport> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./node-worker.js', import.meta.url), { workerData: task });
    let settled = false;
    worker.on('message', (m: { ok: true; report: WorkerReport } | { ok: false; error: string }) => {
      settled = true;
      if (m.ok) resolve(m.report);
      else reject(new Error(`bench worker failed: ${m.error}`));
    });
    worker.on('error', (err) => { settled = true; reject(err); });
    worker.on('exit', (code) => { if (!settled) reject(new Error(`bench worker exited with ${code} before reporting`)); });
  });
}
