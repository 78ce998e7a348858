/**
 * Txn, as etcd 3.4's applierV3backend.Txn: (1) evaluate the compares of the txn and of every
 * nested txn on the taken path against the state before the txn; (2) check the path's puts
 * (lease, ignore_*) and ranges (revision) against that state, failing the whole txn before any
 * write; (3) run the path's ops in order at one main revision, each range seeing earlier writes.
 * The top header carries the txn's revision; nested op headers carry the revision so far, and a
 * nested txn's header is empty (revision 0), exactly as etcd returns them.
 */
import type { etcdserverpb } from '@corvid/proto';
import { assert } from '../errors/index.js';
import type { KeyLeases } from '../lease/index.js';
import { resolveReadRevision, type KvWrite } from '../mvcc/index.js';
import type { WriteTxn } from '../storage/index.js';
import { applyDelete, checkDelete } from './apply-delete.js';
import { applyPut, checkPut } from './apply-put.js';
import { applyCompare } from './compare.js';
import { revisionHeader } from './header.js';

/** The branch taken by a txn and, in op order, by each nested txn on it. */
interface TxnPath {
  readonly succeeded: boolean;
  readonly nested: readonly TxnPath[];
}

function branch(t: etcdserverpb.TxnRequest, succeeded: boolean): etcdserverpb.RequestOp[] {
  return succeeded ? t.success : t.failure;
}

function computePath(txn: WriteTxn, view: KvWrite, t: etcdserverpb.TxnRequest): TxnPath {
  const succeeded = t.compare.every((c) => applyCompare(txn, view, c));
  const nested: TxnPath[] = [];
  for (const op of branch(t, succeeded)) {
    if (op.request?.$case === 'requestTxn') nested.push(computePath(txn, view, op.request.value));
  }
  return { succeeded, nested };
}

/** Visits the ops on the taken path, depth first, in order. */
function forEachOnPath(t: etcdserverpb.TxnRequest, path: TxnPath, visit: (op: etcdserverpb.RequestOp) => void): void {
  let n = 0;
  for (const op of branch(t, path.succeeded)) {
    if (op.request?.$case === 'requestTxn') {
      const nested = path.nested[n++];
      if (nested !== undefined) forEachOnPath(op.request.value, nested, visit);
    } else {
      visit(op);
    }
  }
}

/** etcd's checkRequests: every put first (checkPut), then every range (checkRange). */
function checkPath(txn: WriteTxn, view: KvWrite, leases: KeyLeases, t: etcdserverpb.TxnRequest, path: TxnPath): void {
  forEachOnPath(t, path, (op) => {
    if (op.request?.$case === 'requestPut') checkPut(txn, view, leases, op.request.value);
    if (op.request?.$case === 'requestDeleteRange') checkDelete(op.request.value);
  });
  forEachOnPath(t, path, (op) => {
    if (op.request?.$case === 'requestRange') resolveReadRevision(view.view(), op.request.value.revision);
  });
}

function runOps(txn: WriteTxn, write: KvWrite, leases: KeyLeases, t: etcdserverpb.TxnRequest, path: TxnPath): etcdserverpb.TxnResponse {
  const responses: etcdserverpb.ResponseOp[] = [];
  let n = 0;
  for (const op of branch(t, path.succeeded)) {
    const req = op.request;
    if (req === undefined) {
      responses.push({ response: undefined });
    } else if (req.$case === 'requestRange') {
      const out = write.range(txn, req.value);
      const value = { header: revisionHeader(write.rev()), kvs: out.kvs, more: out.more, count: BigInt(out.count) };
      responses.push({ response: { $case: 'responseRange', value } });
    } else if (req.$case === 'requestPut') {
      responses.push({ response: { $case: 'responsePut', value: applyPut(txn, write, leases, req.value) } });
    } else if (req.$case === 'requestDeleteRange') {
      responses.push({ response: { $case: 'responseDeleteRange', value: applyDelete(txn, write, leases, req.value) } });
    } else {
      const nested = path.nested[n++];
      assert(nested !== undefined, 'txn path does not match the txn');
      const value = runOps(txn, write, leases, req.value, nested);
      responses.push({ response: { $case: 'responseTxn', value: { ...value, header: revisionHeader(0) } } });
    }
  }
  return { header: revisionHeader(write.rev()), succeeded: path.succeeded, responses };
}

export function applyTxn(txn: WriteTxn, write: KvWrite, leases: KeyLeases, t: etcdserverpb.TxnRequest): etcdserverpb.TxnResponse {
  const path = computePath(txn, write, t);
  checkPath(txn, write, leases, t, path);
  const response = runOps(txn, write, leases, t, path);
  return { ...response, header: revisionHeader(write.rev()) };
}
