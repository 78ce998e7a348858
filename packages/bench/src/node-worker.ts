// One worker thread of the Node generator: its own grpc-js channels (one per connection it owns), its share of the
// clients, each a loop of unary calls with pre-framed bodies, timed into a local histogram sent back at the end.
import { parentPort, workerData } from 'node:worker_threads';
import grpc from '@grpc/grpc-js';
import { LatencyHistogram } from './histogram.js';
import { isFixedRequest, type BenchOptions } from './options.js';
import { pacer } from './pacer.js';
import { benchValue, encodeRequest, keyIndex, methodPath } from './requests.js';

/** What the parent gives each worker. */
export interface WorkerTask {
  readonly options: BenchOptions;
  readonly clients: number;
  readonly conns: number;
  /** Requests this worker sends (ignored when the run is timed). */
  readonly total: number;
  /** Requests per second for this worker; 0 = unlimited. */
  readonly rate: number;
  /** Offset so sequential keys of different workers do not collide. */
  readonly firstIndex: number;
}

export interface WorkerReport {
  readonly histogram: ReturnType<LatencyHistogram['snapshot']>;
  readonly succeeded: number;
  readonly errors: Record<string, number>;
  readonly measuredSeconds: number;
}

const identity = (b: Buffer): Buffer => b;

async function run(task: WorkerTask): Promise<WorkerReport> {
  const o = task.options;
  const path = methodPath(o.workload);
  const value = benchValue(o.valSize);
  const fixed = isFixedRequest(o) ? Buffer.from(encodeRequest(o, 0, value)) : null;
  const channels = Array.from({ length: task.conns }, (_, i) =>
    new grpc.Client(o.endpoints[i % o.endpoints.length]!, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
  const h = new LatencyHistogram();
  const errors: Record<string, number> = {};
  let succeeded = 0;
  let issued = 0;
  const timed = o.durationSeconds > 0;
  const start = performance.now();
  const measureFrom = start + (timed ? o.warmupSeconds * 1000 : 0);
  const stopAt = timed ? measureFrom + o.durationSeconds * 1000 : start + 600_000; // hard cap: 10 minutes
  const nextSlot = pacer(task.rate);
  const call = (client: grpc.Client, body: Buffer): Promise<grpc.ServiceError | null> =>
    new Promise((resolve) => {
      client.makeUnaryRequest(path, identity, identity, body, { deadline: Date.now() + 30_000 }, (err) => resolve(err));
    });
  const loop = async (c: number): Promise<void> => {
    const client = channels[c % channels.length]!;
    while (performance.now() < stopAt && (timed || issued < task.total)) {
      const i = issued++;
      await nextSlot();
      const seq = task.firstIndex + i;
      const body = fixed ?? Buffer.from(encodeRequest(o, seq, value, keyIndex(o, seq, Math.random)));
      const t0 = performance.now();
      const err = await call(client, body);
      const t1 = performance.now();
      if (t0 < measureFrom || (timed && t1 > stopAt)) continue;
      if (err === null) {
        succeeded += 1;
        h.record((t1 - t0) * 1000);
      } else {
        const key = `${grpc.status[err.code] ?? err.code}: ${err.details}`;
        errors[key] = (errors[key] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: task.clients }, (_, c) => loop(c)));
  const end = performance.now();
  for (const ch of channels) ch.close();
  return { histogram: h.snapshot(), succeeded, errors, measuredSeconds: (Math.min(end, stopAt) - measureFrom) / 1000 };
}

if (parentPort !== null) {
  const port = parentPort;
  run(workerData as WorkerTask).then(
    (report) => port.postMessage({ ok: true, report }),
    (err: unknown) => port.postMessage({ ok: false, error: String(err instanceof Error ? err.stack : err) }),
  );
}
