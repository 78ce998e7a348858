/**
 * A steady write load for the cluster suites: `clients` independent gRPC clients, each with its own connections,
 * writing unique keys `<prefix>/c<client>/<n>` through the members in turn. A failed put (member down, no leader,
 * timeout) moves that client to the next member and retries the same key and value, so a write that may or may not
 * have happened is never counted; only acknowledged writes are, with their revision and time.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { bytes, kvClient, outcome, type KvApi } from '../harness/grpc.js';

export interface AckedWrite {
  readonly client: number;
  readonly key: string;
  readonly value: string;
  readonly revision: number;
  readonly ackedMs: number;
}

/** Pause after a failed put before the next member is tried, so a client does not spin while no member answers. */
const RETRY_BACKOFF_MS = 20;

export class WriteLoad {
  readonly acked: AckedWrite[] = [];
  /** Every failure as `endpoint: code details`, to explain a stalled load. */
  readonly failures: string[] = [];
  private stopping = false;
  private readonly tasks: Promise<void>[] = [];
  private readonly kvs: KvApi[][];

  constructor(private readonly endpoints: readonly string[], clients: number, private readonly prefix = 'load') {
    this.kvs = Array.from({ length: clients }, () => endpoints.map((e) => kvClient(e, { 'grpc.use_local_subchannel_pool': 1 })));
    for (let c = 0; c < clients; c++) this.tasks.push(this.run(c));
  }

  private async run(client: number): Promise<void> {
    const kvs = this.kvs[client] ?? [];
    let member = client % kvs.length;
    for (let n = 0; !this.stopping; ) {
      const key = `${this.prefix}/c${client}/${n}`;
      const value = `v${client}.${n}`;
      const res = await outcome((kvs[member] as KvApi).put({ key: bytes(key), value: bytes(value) }));
      if (res.ok) {
        this.acked.push({ client, key, value, revision: Number(res.value.header?.revision), ackedMs: performance.now() });
        n++;
      } else {
        this.failures.push(`${this.endpoints[member] ?? '?'}: ${res.code} ${res.details}`);
        member = (member + 1) % kvs.length;
        await delay(RETRY_BACKOFF_MS);
      }
    }
  }

  /** Acknowledged writes of `client` after `sinceMs` (performance.now() time). */
  ackedSince(client: number, sinceMs: number): number {
    return this.acked.filter((w) => w.client === client && w.ackedMs > sinceMs).length;
  }

  get clients(): number {
    return this.kvs.length;
  }

  /** Stops every client after its current call and closes the connections. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.tasks);
    for (const kvs of this.kvs) for (const kv of kvs) kv.close();
  }
}

/**
 * The acknowledged writes that a linearizable read of the whole prefix through `endpoint` does not show with their
 * value: empty when nothing acknowledged was lost.
 */
export async function missingWrites(endpoint: string, acked: readonly AckedWrite[], prefix = 'load'): Promise<string[]> {
  const kv = kvClient(endpoint);
  try {
    const res = await kv.range({ key: bytes(`${prefix}/`), rangeEnd: bytes(`${prefix}0`) });
    const found = new Map(res.kvs.map((k) => [k.key.toString(), k.value.toString()]));
    return acked.filter((w) => found.get(w.key) !== w.value).map((w) => `${w.key}=${w.value}@${w.revision} (found ${found.get(w.key) ?? 'nothing'})`);
  } finally {
    kv.close();
  }
}
