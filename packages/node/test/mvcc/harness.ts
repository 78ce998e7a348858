/**
 * Test harness shared by the storage, mvcc and apply tests: a real Backend in a fresh temp dir,
 * a KvStore and an Applier, and helpers that encode requests as log entries and apply them one
 * entry per batch (or many), as the server does. No mocks: every byte goes through LMDB.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { corvidpb, etcdserverpb } from '@corvid/proto';
import { Applier, type ApplyResult, type LogEntry } from '../../src/apply/index.js';
import { KvStore, type KvStoreOptions } from '../../src/mvcc/index.js';
import { Backend } from '../../src/storage/index.js';

export type Op = corvidpb.InternalRequest['request'];

export const b = (s: string): Buffer => Buffer.from(s, 'utf8');
export const s = (x: Uint8Array): string => Buffer.from(x).toString('utf8');

export function encodeEntry(index: number, op: Op, id = BigInt(index)): LogEntry {
  const data = corvidpb.InternalRequest.encode({ header: corvidpb.RequestHeader.fromPartial({ id, memberId: 1n, proposedAtMs: 0n }), request: op }).finish();
  return { index, data };
}

export const putOp = (key: string, value: string, extra: Partial<etcdserverpb.PutRequest> = {}): Op => ({
  $case: 'put',
  value: etcdserverpb.PutRequest.fromPartial({ key: b(key), value: b(value), ...extra }),
});
export const delOp = (key: string, rangeEnd?: string, prevKv = false): Op => ({
  $case: 'deleteRange',
  value: etcdserverpb.DeleteRangeRequest.fromPartial({ key: b(key), rangeEnd: rangeEnd === undefined ? Buffer.alloc(0) : b(rangeEnd), prevKv }),
});
export const txnOp = (t: etcdserverpb.DeepPartial<etcdserverpb.TxnRequest>): Op => ({ $case: 'txn', value: etcdserverpb.TxnRequest.fromPartial(t) });
type RequestOp = etcdserverpb.DeepPartial<etcdserverpb.RequestOp>;
export const rPut = (key: string, value: string, extra: Partial<etcdserverpb.PutRequest> = {}): RequestOp => ({
  request: { $case: 'requestPut', value: { key: b(key), value: b(value), ...extra } },
});
export const rDel = (key: string, rangeEnd?: string, prevKv = false): RequestOp => ({
  request: { $case: 'requestDeleteRange', value: { key: b(key), rangeEnd: rangeEnd === undefined ? Buffer.alloc(0) : b(rangeEnd), prevKv } },
});
export const rRange = (key: string, rangeEnd?: string, extra: etcdserverpb.DeepPartial<etcdserverpb.RangeRequest> = {}): RequestOp => ({
  request: { $case: 'requestRange', value: { key: b(key), rangeEnd: rangeEnd === undefined ? Buffer.alloc(0) : b(rangeEnd), ...extra } },
});
export const rTxn = (t: etcdserverpb.DeepPartial<etcdserverpb.TxnRequest>): RequestOp => ({ request: { $case: 'requestTxn', value: t } });

export const compactOp = (revision: number, physical = false): Op => ({
  $case: 'compaction',
  value: { revision: BigInt(revision), physical },
});

export class Harness {
  backend: Backend;
  kv: KvStore;
  applier: Applier;
  readonly log: LogEntry[] = [];
  /** afterCommit promises of applied compactions: they reject with Stopped if we close first. */
  private readonly pending: Array<Promise<void>> = [];

  private constructor(readonly dir: string, private readonly options: KvStoreOptions) {
    this.backend = Backend.open({ dataDir: dir });
    this.kv = new KvStore(this.backend, options);
    this.applier = new Applier(this.backend, this.kv);
  }

  static open(options: KvStoreOptions = {}, dir?: string): Harness {
    return new Harness(dir ?? mkdtempSync(join(tmpdir(), 'corvid-mvcc-')), options);
  }

  /** Appends `op` to the log and applies it alone. */
  apply(op: Op): ApplyResult {
    const entry = encodeEntry(Math.max(this.log.length, this.applier.appliedIndex()) + 1, op);
    this.log.push(entry);
    const [result] = this.applier.applyBatch([entry]);
    if (result === undefined) throw new Error('no result');
    if (result.ok && result.afterCommit !== undefined) this.pending.push(result.afterCommit);
    return result;
  }

  /** Applies `op` and returns its response, failing the test on an error result. */
  ok<T>(op: Op): T {
    const result = this.apply(op);
    if (!result.ok) throw result.error;
    return result.response as T;
  }

  /** Applies `op` and returns its error code, failing the test if it succeeded. */
  err(op: Op): string {
    const result = this.apply(op);
    if (result.ok) throw new Error(`expected an error, got ${JSON.stringify(result.response, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
    return result.error.code;
  }

  put(key: string, value: string, extra: Partial<etcdserverpb.PutRequest> = {}): etcdserverpb.PutResponse {
    return this.ok(putOp(key, value, extra));
  }

  del(key: string, rangeEnd?: string, prevKv = false): etcdserverpb.DeleteRangeResponse {
    return this.ok(delOp(key, rangeEnd, prevKv));
  }

  txn(t: etcdserverpb.DeepPartial<etcdserverpb.TxnRequest>): etcdserverpb.TxnResponse {
    return this.ok(txnOp(t));
  }

  range(r: etcdserverpb.DeepPartial<etcdserverpb.RangeRequest>): etcdserverpb.RangeResponse {
    return this.kv.range(etcdserverpb.RangeRequest.fromPartial(r));
  }

  /** Keys (as strings) a range returns. */
  keys(r: etcdserverpb.DeepPartial<etcdserverpb.RangeRequest>): string[] {
    return this.range(r).kvs.map((kv) => s(kv.key));
  }

  async reopen(): Promise<void> {
    const settled = Promise.allSettled(this.pending.splice(0));
    await this.kv.close();
    await settled;
    await this.backend.close();
    this.backend = Backend.open({ dataDir: this.dir });
    this.kv = new KvStore(this.backend, this.options);
    this.applier = new Applier(this.backend, this.kv);
  }

  async close(remove = true): Promise<void> {
    const settled = Promise.allSettled(this.pending.splice(0));
    await this.kv.close();
    await settled;
    await this.backend.close();
    if (remove) rmSync(this.dir, { recursive: true, force: true });
  }
}
