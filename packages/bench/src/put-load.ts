// A steady put load for scenarios that measure what something else does to writes: --clients loops on one
// connection share a pacer at a fixed rate and put 256-byte values on a key space of their own; each put's send
// time and latency are kept (at most MAX_SAMPLES), so a scenario can cut the run into phases afterwards.
import grpc from '@grpc/grpc-js';
import { etcdserverpb } from '@corvid/proto';
import { LatencyHistogram } from './histogram.js';
import { pacer } from './pacer.js';

/** Bounds the memory of a long run: 2,000,000 samples at 1,000 puts/s is over half an hour. */
const MAX_SAMPLES = 2_000_000;
const CALL_DEADLINE_MS = 30_000;
const VALUE = Buffer.alloc(256, 0x61);

export interface PhaseFigures { readonly puts: number; readonly p50Ms: number; readonly p99Ms: number; readonly maxMs: number }

export class PutLoad {
  /** performance.now() at send, and latency in µs, of every put that succeeded. */
  private readonly sentAt: number[] = [];
  private readonly latencyUs: number[] = [];
  private readonly client: etcdserverpb.KVClient;
  private stopping = false;
  private loops: Promise<void> | null = null;
  failed = 0;

  constructor(endpoint: string, private readonly rate: number, private readonly clients: number, private readonly prefix: string, private readonly keys = 1000) {
    this.client = new etcdserverpb.KVClient(endpoint, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
  }

  start(): void {
    const nextSlot = pacer(this.rate);
    let i = 0;
    const loop = async (): Promise<void> => {
      while (!this.stopping) {
        await nextSlot();
        const key = Buffer.from(`${this.prefix}${i++ % this.keys}`);
        const t0 = performance.now();
        const err = await new Promise<grpc.ServiceError | null>((resolve) => this.client.put(etcdserverpb.PutRequest.fromPartial({ key, value: VALUE }),
          new grpc.Metadata(), { deadline: Date.now() + CALL_DEADLINE_MS }, (e) => resolve(e)));
        if (err !== null) this.failed++;
        else if (this.sentAt.length < MAX_SAMPLES) {
          this.sentAt.push(t0);
          this.latencyUs.push((performance.now() - t0) * 1000);
        }
      }
    };
    this.loops = Promise.all(Array.from({ length: this.clients }, loop)).then(() => undefined);
  }

  /** Waits for the puts in flight; a second call is a no-op. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await this.loops;
    this.client.close();
  }

  /** The puts sent in [fromMs, toMs) (performance.now() times). */
  phase(fromMs: number, toMs: number): PhaseFigures {
    const h = new LatencyHistogram();
    for (let i = 0; i < this.sentAt.length; i++) {
      const t = this.sentAt[i]!;
      if (t >= fromMs && t < toMs) h.record(this.latencyUs[i]!);
    }
    return { puts: h.count, p50Ms: h.percentileUs(50) / 1000, p99Ms: h.percentileUs(99) / 1000, maxMs: h.maxUs / 1000 };
  }
}
