// The lease-expiry scenario of issue 5: `leases` leases with a short TTL, each holding one key, expire together;
// how long after the last lease's expiry are all their keys gone, and what does the mass revoke do to the p99 of
// a steady put load on other keys? Steps, against one endpoint:
//   1. a put load at `putRate` starts (PutLoad); `baselineSeconds` of it alone give the baseline p99;
//   2. `concurrency` loops over `conns` connections grant a lease (TTL `ttlSeconds`) and put `lease-expiry/<i>`
//      with it, until `leases` are granted; the last grant's answer time + TTL is the last expiry (the server
//      counts the TTL from the grant, so the true expiry is no later than that);
//   3. a count_only range of the prefix every POLL_MS until it answers 0: "keys gone" is that time;
//   4. the put load's p99 while the expiry runs: puts sent from the later of the first expiry and the end of
//      granting until the keys were gone.
// The TTL (60 s by default) outlasts granting 100,000 leases here (about 30 s), so they all expire after the grants
// are done and the revoke is measured alone, as a mass expiry.
import grpc from '@grpc/grpc-js';
import { etcdserverpb } from '@corvid/proto';
import { prefixEnd } from './long-reads.js';
import { parseEndpoint, UsageError } from './options.js';
import { PutLoad, type PhaseFigures } from './put-load.js';

export interface LeaseExpiryOptions {
  readonly endpoint: string;
  readonly leases: number;
  readonly ttlSeconds: number;
  /** Puts per second of the steady load (on keys outside the leases' prefix). */
  readonly putRate: number;
  /** Grant+put loops in flight, spread over `conns` connections. */
  readonly concurrency: number;
  readonly conns: number;
  readonly baselineSeconds: number;
  /** Give up waiting for the keys to go this long after the last expiry. */
  readonly goneTimeoutSeconds: number;
}

export const DEFAULT_LEASE_EXPIRY: Omit<LeaseExpiryOptions, 'endpoint'> = {
  leases: 100_000, ttlSeconds: 60, putRate: 200, concurrency: 256, conns: 8, baselineSeconds: 5, goneTimeoutSeconds: 300,
};

export interface LeaseExpiryResult {
  readonly leases: number;
  readonly ttlSeconds: number;
  /** Granting (and putting one key per lease) took this long. */
  readonly grantSeconds: number;
  readonly grantFailures: number;
  /** From the last lease's expiry (last grant answer + TTL) until a count of the prefix answered 0. */
  readonly goneAfterLastExpirySeconds: number;
  /** From the first lease's expiry until the keys were gone: the whole revoke. */
  readonly goneAfterFirstExpirySeconds: number;
  readonly baseline: PhaseFigures;
  readonly duringExpiry: PhaseFigures;
  readonly putFailures: number;
}

const PREFIX = 'lease-expiry/';
const POLL_MS = 100;
const CALL_DEADLINE_MS = 30_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function unary<R>(run: (cb: (err: grpc.ServiceError | null, r: R) => void) => void): Promise<R> {
  return new Promise((resolve, reject) => run((err, r) => (err === null ? resolve(r) : reject(err))));
}
const deadline = (): grpc.CallOptions => ({ deadline: Date.now() + CALL_DEADLINE_MS });

/** Grants the leases and puts one key with each; returns the first and last grant answer times and the failures. */
async function grantAll(o: LeaseExpiryOptions): Promise<{ first: number; last: number; failures: number }> {
  const opts = { 'grpc.use_local_subchannel_pool': 1 };
  const leaseClients = Array.from({ length: o.conns }, () => new etcdserverpb.LeaseClient(o.endpoint, grpc.credentials.createInsecure(), opts));
  const kvClients = Array.from({ length: o.conns }, () => new etcdserverpb.KVClient(o.endpoint, grpc.credentials.createInsecure(), opts));
  let next = 0;
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  let failures = 0;
  const loop = async (c: number): Promise<void> => {
    const lc = leaseClients[c % o.conns]!;
    const kc = kvClients[c % o.conns]!;
    while (next < o.leases) {
      const i = next++;
      try {
        const g = await unary<etcdserverpb.LeaseGrantResponse>((cb) => lc.leaseGrant(etcdserverpb.LeaseGrantRequest.fromPartial({ TTL: BigInt(o.ttlSeconds) }), new grpc.Metadata(), deadline(), cb));
        const t = performance.now();
        first = Math.min(first, t);
        last = Math.max(last, t);
        await unary<etcdserverpb.PutResponse>((cb) => kc.put(etcdserverpb.PutRequest.fromPartial({ key: Buffer.from(`${PREFIX}${i}`), value: Buffer.from('v'), lease: g.ID }),
          new grpc.Metadata(), deadline(), cb));
      } catch (err) {
        if (!(err instanceof Error)) throw err;
        failures++;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: o.concurrency }, (_, c) => loop(c)));
  } finally {
    for (const c of [...leaseClients, ...kvClients]) c.close();
  }
  return { first, last, failures };
}

/** Polls a count of the prefix until 0; the performance.now() of the answer that said 0. */
async function waitGone(endpoint: string, giveUpAt: number): Promise<number> {
  const kv = new etcdserverpb.KVClient(endpoint, grpc.credentials.createInsecure());
  const request = etcdserverpb.RangeRequest.fromPartial({ key: Buffer.from(PREFIX), rangeEnd: prefixEnd(Buffer.from(PREFIX)), countOnly: true, serializable: true });
  try {
    for (;;) {
      const r = await unary<etcdserverpb.RangeResponse>((cb) => kv.range(request, new grpc.Metadata(), deadline(), cb));
      const t = performance.now();
      if (r.count === 0n) return t;
      if (t > giveUpAt) throw new Error(`${String(r.count)} keys of ${PREFIX} still there past the timeout`);
      await sleep(POLL_MS);
    }
  } finally {
    kv.close();
  }
}

export async function runLeaseExpiry(o: LeaseExpiryOptions, progress: (line: string) => void = () => undefined): Promise<LeaseExpiryResult> {
  const load = new PutLoad(o.endpoint, o.putRate, 8, 'lease-expiry-put/');
  load.start();
  try {
    const t0 = performance.now();
    await sleep(o.baselineSeconds * 1000);
    const grantStart = performance.now();
    const g = await grantAll(o);
    const grantEnd = performance.now();
    progress(`granted ${o.leases} leases (${g.failures} failures) in ${((grantEnd - grantStart) / 1000).toFixed(1)} s`);
    const ttlMs = o.ttlSeconds * 1000;
    const lastExpiry = g.last + ttlMs;
    const gone = await waitGone(o.endpoint, lastExpiry + o.goneTimeoutSeconds * 1000);
    await load.stop();
    return {
      leases: o.leases, ttlSeconds: o.ttlSeconds, grantSeconds: (grantEnd - grantStart) / 1000, grantFailures: g.failures,
      goneAfterLastExpirySeconds: (gone - lastExpiry) / 1000,
      goneAfterFirstExpirySeconds: (gone - (g.first + ttlMs)) / 1000,
      baseline: load.phase(t0, grantStart),
      duringExpiry: load.phase(Math.max(g.first + ttlMs, grantEnd), gone),
      putFailures: load.failed,
    };
  } finally {
    await load.stop();
  }
}

export const LEASE_EXPIRY_USAGE = `usage: corvid-bench lease-expiry [--endpoints host:port] [--leases N] [--lease-ttl S] [--rate PUTS_PER_S]
  [--concurrency N] [--conns N] [--json]   defaults: ${DEFAULT_LEASE_EXPIRY.leases} leases, TTL ${DEFAULT_LEASE_EXPIRY.ttlSeconds} s, ` +
  `${DEFAULT_LEASE_EXPIRY.putRate} puts/s, ${DEFAULT_LEASE_EXPIRY.concurrency} grant loops over ${DEFAULT_LEASE_EXPIRY.conns} connections`;

/** corvid-bench lease-expiry's flags (argv after the workload name). */
export function parseLeaseExpiryArgs(argv: readonly string[]): { options: LeaseExpiryOptions; json: boolean } {
  const o: { -readonly [K in keyof LeaseExpiryOptions]: LeaseExpiryOptions[K] } = { ...DEFAULT_LEASE_EXPIRY, endpoint: '127.0.0.1:2379' };
  let json = false;
  const counts: Record<string, 'leases' | 'ttlSeconds' | 'putRate' | 'concurrency' | 'conns'> = {
    leases: 'leases', 'lease-ttl': 'ttlSeconds', rate: 'putRate', concurrency: 'concurrency', conns: 'conns',
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.replace(/^--/, '').split('=', 2) as [string, string | undefined];
    if (flag === 'json') { json = true; continue; }
    const value = inline ?? argv[++i];
    if (flag === 'endpoints') { o.endpoint = parseEndpoint((value ?? '').split(',')[0] ?? ''); continue; }
    const field = counts[flag];
    const n = Number(value);
    if (field === undefined) throw new UsageError(`unknown option --${flag}`);
    if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--${flag} wants a positive integer, got ${String(value)}`);
    o[field] = n;
  }
  return { options: o, json };
}
