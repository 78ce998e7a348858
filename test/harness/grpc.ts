/**
 * Raw gRPC access to a member with @corvid/proto's grpc-js clients: promisified KV and Maintenance calls, and
 * `outcome()`, which turns a call into {ok, value} or {code, details} so errors from etcd and Corvid compare as data.
 */
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { etcdserverpb } from '@corvid/proto';

type Req<T> = etcdserverpb.DeepPartial<T>;

export interface KvApi {
  range(req: Req<etcdserverpb.RangeRequest>): Promise<etcdserverpb.RangeResponse>;
  put(req: Req<etcdserverpb.PutRequest>): Promise<etcdserverpb.PutResponse>;
  deleteRange(req: Req<etcdserverpb.DeleteRangeRequest>): Promise<etcdserverpb.DeleteRangeResponse>;
  txn(req: Req<etcdserverpb.TxnRequest>): Promise<etcdserverpb.TxnResponse>;
  compact(req: Req<etcdserverpb.CompactionRequest>): Promise<etcdserverpb.CompactionResponse>;
  close(): void;
}

export interface MaintenanceApi {
  status(): Promise<etcdserverpb.StatusResponse>;
  alarm(req: Req<etcdserverpb.AlarmRequest>): Promise<etcdserverpb.AlarmResponse>;
  close(): void;
}

/** Per-call deadline: a hung member fails the test with DEADLINE_EXCEEDED instead of timing jest out. */
const CALL_DEADLINE_MS = 5_000;

type Callback<R> = (error: ServiceError | null, response: R) => void;

type UnaryMethod<Q, R> = (req: Q, meta: Metadata, opts: { deadline: Date }, cb: Callback<R>) => unknown;

function unary<Q, R>(call: UnaryMethod<Q, R>, req: Q): Promise<R> {
  return new Promise((resolve, reject) => {
    call(req, new Metadata(), { deadline: new Date(Date.now() + CALL_DEADLINE_MS) }, (error, response) => {
      if (error !== null) reject(error);
      else resolve(response);
    });
  });
}

export function kvClient(endpoint: string, options: Record<string, number> = {}): KvApi {
  const client = new etcdserverpb.KVClient(endpoint, credentials.createInsecure(), options);
  return {
    range: (req) => unary(client.range.bind(client), etcdserverpb.RangeRequest.fromPartial(req)),
    put: (req) => unary(client.put.bind(client), etcdserverpb.PutRequest.fromPartial(req)),
    deleteRange: (req) => unary(client.deleteRange.bind(client), etcdserverpb.DeleteRangeRequest.fromPartial(req)),
    txn: (req) => unary(client.txn.bind(client), etcdserverpb.TxnRequest.fromPartial(req)),
    compact: (req) => unary(client.compact.bind(client), etcdserverpb.CompactionRequest.fromPartial(req)),
    close: () => client.close(),
  };
}

export function maintenanceClient(endpoint: string): MaintenanceApi {
  const client = new etcdserverpb.MaintenanceClient(endpoint, credentials.createInsecure());
  return {
    status: () => unary(client.status.bind(client), etcdserverpb.StatusRequest.fromPartial({})),
    alarm: (req) => unary(client.alarm.bind(client), etcdserverpb.AlarmRequest.fromPartial(req)),
    close: () => client.close(),
  };
}

export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly code: number; readonly details: string };

/** Settles a call into data: the response, or the gRPC status code and details text. */
export async function outcome<T>(call: Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await call };
  } catch (err) {
    const e = err as Partial<ServiceError>;
    if (typeof e.code !== 'number') throw err;
    return { ok: false, code: e.code, details: e.details ?? '' };
  }
}

/** Just the error part of an outcome ({code, details}), or 'ok'; what the error tests compare. */
export function errorOf(result: Outcome<unknown>): { code: number; details: string } | 'ok' {
  return result.ok ? 'ok' : { code: result.code, details: result.details };
}

export const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');
