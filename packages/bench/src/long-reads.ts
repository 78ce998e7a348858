// The long-reads scenario of issue 6 (etcd 3.4's headline): preload 100,000 keys of 1 KiB under one prefix, then
// measure a put load (64 clients, 256-byte values, a key outside the prefix) alone and again while 2 loops of
// full-prefix ranges run, and report the share of put throughput kept and the growth of put p99. The range loops
// use raw HTTP/2 with large flow-control windows and discard the bytes (checking grpc-status), so the client side
// costs as little as possible and the same for both servers.
import http2 from 'node:http2';
import { etcdserverpb } from '@corvid/proto';
import { grpcFrame } from './requests.js';

export const LONG_READS_PREFIX = Buffer.from('long-reads/');
export const LONG_READS_KEYS = 100_000;
export const LONG_READS_VALUE_BYTES = 1024;
/** etcd's default --max-txn-ops. */
const PUTS_PER_TXN = 128;
const PRELOAD_STREAMS = 4;
/** Flow-control window of the range loops' connections: a 100 MB answer should not wait on WINDOW_UPDATEs. */
const WINDOW_BYTES = 32 * 1024 * 1024;

/** The end of the prefix range (etcd's `--prefix`): the prefix with its last byte + 1. */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  end[end.length - 1]! += 1;
  return end;
}

export function longReadsKey(i: number): Buffer {
  return Buffer.concat([LONG_READS_PREFIX, Buffer.from(String(i).padStart(6, '0'))]);
}

interface CallResult { grpcStatus: number; grpcMessage: string; bytes: number }

function call(session: http2.ClientHttp2Session, path: string, frame: Buffer, timeoutMs: number): Promise<CallResult> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
    const timer = setTimeout(() => { stream.close(http2.constants.NGHTTP2_CANCEL); reject(new Error(`${path}: no answer in ${timeoutMs} ms`)); }, timeoutMs);
    let status = -1;
    let message = '';
    let bytes = 0;
    const take = (h: http2.IncomingHttpHeaders): void => {
      if (typeof h['grpc-status'] === 'string') status = Number(h['grpc-status']);
      if (typeof h['grpc-message'] === 'string') message = decodeURIComponent(h['grpc-message']);
    };
    stream.on('response', take);
    stream.on('trailers', take);
    stream.on('data', (chunk: Buffer) => { bytes += chunk.length; });
    stream.on('error', (err) => { clearTimeout(timer); reject(err); });
    stream.on('close', () => { clearTimeout(timer); resolve({ grpcStatus: status, grpcMessage: message, bytes }); });
    stream.end(frame);
  });
}

function connect(endpoint: string): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://${endpoint}`, { settings: { initialWindowSize: WINDOW_BYTES } });
    session.once('error', reject);
    session.once('connect', () => {
      session.setLocalWindowSize(WINDOW_BYTES);
      session.off('error', reject);
      session.on('error', () => undefined); // a failing call reports through its stream
      resolve(session);
    });
  });
}

/** Puts LONG_READS_KEYS keys of LONG_READS_VALUE_BYTES under the prefix, PUTS_PER_TXN per txn. */
export function preloadLongReads(endpoint: string, keys = LONG_READS_KEYS): Promise<void> {
  return preloadKeys(endpoint, keys, LONG_READS_VALUE_BYTES, longReadsKey);
}

/** Puts `keys` keys (`keyOf(i)`) of `valueBytes` each, PUTS_PER_TXN per txn over PRELOAD_STREAMS streams. */
export async function preloadKeys(endpoint: string, keys: number, valueBytes: number, keyOf: (i: number) => Buffer): Promise<void> {
  const session = await connect(endpoint);
  const value = Buffer.alloc(valueBytes, 0x6c);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < keys) {
      const from = next;
      next = Math.min(keys, next + PUTS_PER_TXN);
      const success = [];
      for (let i = from; i < next; i++) success.push({ request: { $case: 'requestPut' as const, value: etcdserverpb.PutRequest.fromPartial({ key: keyOf(i), value }) } });
      const body = grpcFrame(etcdserverpb.TxnRequest.encode(etcdserverpb.TxnRequest.fromPartial({ success })).finish());
      const r = await call(session, '/etcdserverpb.KV/Txn', body, 30_000);
      if (r.grpcStatus !== 0) throw new Error(`preload txn at key ${from} failed: ${r.grpcStatus} ${r.grpcMessage}`);
    }
  };
  try {
    await Promise.all(Array.from({ length: PRELOAD_STREAMS }, worker));
  } finally {
    session.close();
  }
}

export interface RangeLoopReport {
  readonly ranges: number;
  readonly failed: number;
  readonly meanMs: number;
  readonly maxMs: number;
  readonly bytesPerRange: number;
  readonly errors: Readonly<Record<string, number>>;
}

/** Runs `loops` back-to-back full-prefix (linearizable) ranges, each loop on its own connection, until stopped. */
export async function startRangeLoops(endpoint: string, loops: number): Promise<{ stop(): Promise<RangeLoopReport> }> {
  const body = grpcFrame(etcdserverpb.RangeRequest.encode(etcdserverpb.RangeRequest.fromPartial({ key: LONG_READS_PREFIX, rangeEnd: prefixEnd(LONG_READS_PREFIX) })).finish());
  const sessions = await Promise.all(Array.from({ length: loops }, () => connect(endpoint)));
  let stopping = false;
  let ranges = 0;
  let failed = 0;
  let totalMs = 0;
  let maxMs = 0;
  let bytes = 0;
  const errors: Record<string, number> = {};
  const loop = async (session: http2.ClientHttp2Session): Promise<void> => {
    while (!stopping) {
      const t0 = performance.now();
      let r: CallResult;
      try {
        r = await call(session, '/etcdserverpb.KV/Range', body, 60_000);
      } catch (err) {
        r = { grpcStatus: -1, grpcMessage: err instanceof Error ? err.message : String(err), bytes: 0 };
      }
      const ms = performance.now() - t0;
      if (r.grpcStatus === 0) {
        ranges++;
        totalMs += ms;
        maxMs = Math.max(maxMs, ms);
        bytes += r.bytes;
      } else {
        failed++;
        const k = `${r.grpcStatus} ${r.grpcMessage}`;
        errors[k] = (errors[k] ?? 0) + 1;
        if (r.grpcStatus === -1) await new Promise((res) => setTimeout(res, 100));
      }
    }
  };
  const running = sessions.map(loop);
  return {
    async stop(): Promise<RangeLoopReport> {
      stopping = true;
      await Promise.all(running);
      for (const s of sessions) s.close();
      return { ranges, failed, meanMs: ranges === 0 ? Number.NaN : totalMs / ranges, maxMs, bytesPerRange: ranges === 0 ? 0 : bytes / ranges, errors };
    },
  };
}
