/**
 * A bounded pool of worker threads that serve long reads (big ranges, counts, HashKV) from the
 * member's LMDB environment, so the event loop that drives Raft and applies writes never runs a
 * long scan (DESIGN §4). Workers start on first use; each runs one job at a time; jobs wait in a
 * FIFO of at most `maxQueued` (overflow: TooManyRequests). A worker that dies fails its job and
 * is replaced on the next one. A defragmentation suspends the pool (`suspend`/`resume`, the
 * storage's EnvSharer): running jobs finish, every worker closes its environment and exits, and
 * jobs that arrive meanwhile wait in the same bounded queue until fresh workers open the new file.
 */
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { CorvidError } from '../../errors/index.js';
import type { ReadPoolMetrics } from '../../metrics/index.js';
import type { CloseRequest, ReadJob, ReadReply, WorkerInit } from './protocol.js';

/** Jobs waiting for a worker before new ones are refused. */
export const MAX_QUEUED_READS = 128;

/**
 * Workers: the cores left after the event loop's, at least 1, at most 4. On a 2-core machine one
 * worker, so two long reads run one after the other and the event loop keeps a core.
 */
export function defaultReadWorkers(): number {
  return Math.min(4, Math.max(1, availableParallelism() - 1));
}

export interface ReadPoolOptions {
  /** The LMDB environment directory (`Backend.path`). */
  readonly path: string;
  readonly workers?: number;
  readonly maxQueued?: number;
  /** corvid_read_pool_*: queue depth, busy workers, queue wait and run time per job. */
  readonly metrics?: ReadPoolMetrics;
}

interface Pending {
  readonly job: ReadJob;
  /** performance.now() when queued, then when a worker took it. */
  atMs: number;
  readonly resolve: (reply: ReadReply) => void;
  readonly reject: (err: unknown) => void;
}

interface Slot {
  worker: Worker | null;
  busy: Pending | null;
}

/** The compiled worker: next to this file in dist; under jest (which runs src/*.ts), dist's copy. */
function workerUrl(): URL {
  const here = new URL('./worker.js', import.meta.url);
  if (!import.meta.url.endsWith('.ts')) return here;
  return new URL(here.href.replace('/src/mvcc/read-pool/', '/dist/mvcc/read-pool/'));
}

export class ReadPool {
  private readonly slots: Slot[];
  private readonly queue: Pending[] = [];
  private readonly maxQueued: number;
  private closed = false;
  /** Suspended for a defragmentation: nothing is dispatched; `idleWaiters` hear when no job runs. */
  private held = false;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly options: ReadPoolOptions) {
    this.slots = Array.from({ length: options.workers ?? defaultReadWorkers() }, () => ({ worker: null, busy: null }));
    this.maxQueued = options.maxQueued ?? MAX_QUEUED_READS;
  }

  /** Runs `job` on a worker; rejects with Stopped after close, TooManyRequests when the queue is full. */
  run(job: ReadJob): Promise<ReadReply> {
    if (this.closed) return Promise.reject(new CorvidError('Stopped'));
    if (this.queue.length >= this.maxQueued) return Promise.reject(new CorvidError('TooManyRequests'));
    return new Promise<ReadReply>((resolve, reject) => {
      this.queue.push({ job, resolve, reject, atMs: performance.now() });
      this.dispatch();
    });
  }

  /** Jobs running or waiting. */
  pending(): number {
    return this.queue.length + this.slots.filter((s) => s.busy !== null).length;
  }

  /**
   * Lets the running jobs finish (a long range is not cut short), then has every worker close its
   * LMDB handles and exit. Rejects if a worker could not close (its handles may still be open).
   */
  async suspend(): Promise<void> {
    this.held = true;
    while (this.slots.some((s) => s.busy !== null)) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    await Promise.all(this.slots.map((slot) => this.retire(slot)));
  }

  /** Dispatches again; workers are started afresh, on the environment as it is now. */
  resume(): void {
    this.held = false;
    this.dispatch();
  }

  private async retire(slot: Slot): Promise<void> {
    const worker = slot.worker;
    if (worker === null) return;
    slot.worker = null; // its exit is expected now: `fail` ignores it
    const exited = once(worker, 'exit') as Promise<[number]>;
    const close: CloseRequest = { kind: 'close' };
    worker.postMessage(close);
    const [code] = await exited;
    if (code !== 0) throw new Error(`read-pool worker exited with code ${code} while closing its environment`);
  }

  private dispatch(): void {
    if (this.held) {
      if (this.slots.every((s) => s.busy === null)) for (const wake of this.idleWaiters.splice(0)) wake();
      this.report();
      return;
    }
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.busy !== null) continue;
      const next = this.queue.shift()!;
      slot.busy = next;
      const now = performance.now();
      this.options.metrics?.waitSeconds.observe((now - next.atMs) / 1000);
      next.atMs = now;
      (slot.worker ??= this.spawn(slot)).postMessage(next.job);
    }
    this.report();
  }

  /** Sets the queue and busy-worker gauges (after every change of either). */
  private report(): void {
    const metrics = this.options.metrics;
    if (metrics === undefined) return;
    metrics.queued.set(this.queue.length);
    metrics.busyWorkers.set(this.slots.filter((s) => s.busy !== null).length);
  }

  private spawn(slot: Slot): Worker {
    const init: WorkerInit = { path: this.options.path };
    const worker = new Worker(workerUrl(), { workerData: init });
    worker.on('message', (reply: ReadReply) => {
      const done = slot.busy;
      slot.busy = null;
      if (done !== null) this.options.metrics?.runSeconds.observe((performance.now() - done.atMs) / 1000);
      done?.resolve(reply);
      this.dispatch();
    });
    const fail = (err: unknown): void => {
      if (slot.worker !== worker) return;
      slot.worker = null;
      const done = slot.busy;
      slot.busy = null;
      done?.reject(err);
      if (!this.closed) this.dispatch();
      else this.report();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`read-pool worker exited with code ${code}`)));
    return worker;
  }

  /** Fails waiting jobs with Stopped and stops the workers; a job they were running fails with Stopped too. */
  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.reject(new CorvidError('Stopped'));
    await Promise.all(
      this.slots.map(async (slot) => {
        const worker = slot.worker;
        if (worker === null) return;
        slot.worker = null;
        const running = slot.busy;
        slot.busy = null;
        // terminate() stops the thread between jobs or in the middle of one; its job fails.
        await worker.terminate();
        running?.reject(new CorvidError('Stopped'));
      }),
    );
    // A suspension waiting for those jobs goes on (no worker is left to close).
    for (const wake of this.idleWaiters.splice(0)) wake();
    this.report();
  }
}
