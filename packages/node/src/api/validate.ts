/**
 * Request checks done before anything is proposed, as etcd 3.4's v3rpc does them (key.go:
 * checkRangeRequest, checkPutRequest, checkDeleteRequest, checkTxnRequest, checkIntervals).
 * The order of the checks matters: it decides which error a request with several faults gets.
 */
import { etcdserverpb } from '@corvid/proto';
import { CorvidError } from '../errors/index.js';
import { compareBytes } from '../util/bytes.js';

type RangeRequest = etcdserverpb.RangeRequest;
type PutRequest = etcdserverpb.PutRequest;
type DeleteRangeRequest = etcdserverpb.DeleteRangeRequest;
type TxnRequest = etcdserverpb.TxnRequest;
type RequestOp = etcdserverpb.RequestOp;

const SORT_TARGETS = new Set<number>([0, 1, 2, 3, 4]);

/**
 * etcd 3.4 checks only the key. An unknown sort_order is served unsorted, as 3.4 does; an unknown
 * sort_target crashes a 3.4 member (nil sorter in apply.go), so it gets etcd 3.5's answer instead.
 */
export function checkRangeRequest(r: RangeRequest): void {
  if (r.key.length === 0) throw new CorvidError('EmptyKey');
  if (!SORT_TARGETS.has(r.sortTarget)) throw new CorvidError('InvalidSortOption');
}

export function checkPutRequest(r: PutRequest): void {
  if (r.key.length === 0) throw new CorvidError('EmptyKey');
  if (r.ignoreValue && r.value.length !== 0) throw new CorvidError('ValueProvided');
  if (r.ignoreLease && r.lease !== 0n) throw new CorvidError('LeaseProvided');
}

export function checkDeleteRequest(r: DeleteRangeRequest): void {
  if (r.key.length === 0) throw new CorvidError('EmptyKey');
}

/** checkTxnRequest followed by the put/delete overlap check of both branches. */
export function checkTxn(r: TxnRequest, maxTxnOps: number): void {
  checkTxnRequest(r, maxTxnOps);
  // Overlaps are checked after the per-op checks, as etcd does, to avoid a quadratic blow-up
  // on requests that are invalid anyway.
  checkIntervals(r.success);
  checkIntervals(r.failure);
}

function checkTxnRequest(r: TxnRequest, maxTxnOps: number): void {
  const opCount = Math.max(r.compare.length, r.success.length, r.failure.length);
  if (opCount > maxTxnOps) throw new CorvidError('TooManyOps');
  for (const c of r.compare) if (c.key.length === 0) throw new CorvidError('EmptyKey');
  for (const op of r.success) checkRequestOp(op, maxTxnOps - opCount);
  for (const op of r.failure) checkRequestOp(op, maxTxnOps - opCount);
}

function checkRequestOp(op: RequestOp, maxTxnOps: number): void {
  const request = op.request;
  switch (request?.$case) {
    case 'requestRange':
      return checkRangeRequest(request.value);
    case 'requestPut':
      return checkPutRequest(request.value);
    case 'requestDeleteRange':
      return checkDeleteRequest(request.value);
    case 'requestTxn':
      return checkTxnRequest(request.value, maxTxnOps);
    default:
      // An empty RequestOp: etcd answers "key not found" for it.
      throw new CorvidError('KeyNotFound');
  }
}

/**
 * A delete's key interval. An empty end means +infinity, and the end is exclusive; a delete
 * without range_end is the single point [key, key]. As in etcd's string-affine intervals, a
 * range_end of "\0" is NOT special here, so a from-key delete overlaps nothing.
 */
interface Interval {
  readonly begin: Uint8Array;
  readonly end: Uint8Array | null; // null: the point `begin`
}

function intersectsPoint(iv: Interval, key: Uint8Array): boolean {
  if (iv.end === null) return compareBytes(iv.begin, key) === 0;
  if (compareBytes(iv.begin, key) > 0) return false;
  return iv.end.length === 0 || compareBytes(key, iv.end) < 0;
}

function anyIntersects(dels: readonly Interval[], key: Uint8Array): boolean {
  return dels.some((iv) => intersectsPoint(iv, key));
}

/** Puts and deletes may not touch the same key within one level of a txn (nested levels included). */
function checkIntervals(ops: readonly RequestOp[]): { puts: Map<string, Uint8Array>; dels: Interval[] } {
  const dels: Interval[] = [];
  for (const op of ops) {
    if (op.request?.$case !== 'requestDeleteRange') continue;
    const d = op.request.value;
    dels.push({ begin: d.key, end: d.rangeEnd.length !== 0 ? d.rangeEnd : null });
  }
  const puts = new Map<string, Uint8Array>();
  const addPut = (key: Uint8Array, allowedTwice?: ReadonlyMap<string, Uint8Array>): void => {
    const id = Buffer.from(key).toString('latin1');
    if (puts.has(id) && !allowedTwice?.has(id)) throw new CorvidError('DuplicateKey');
    if (anyIntersects(dels, key)) throw new CorvidError('DuplicateKey');
    puts.set(id, key);
  };
  for (const op of ops) {
    if (op.request?.$case !== 'requestTxn') continue;
    const then = checkIntervals(op.request.value.success);
    const otherwise = checkIntervals(op.request.value.failure);
    for (const key of then.puts.values()) addPut(key);
    // then and else are mutually exclusive, so a key put by both branches is fine.
    for (const key of otherwise.puts.values()) addPut(key, then.puts);
    dels.push(...then.dels, ...otherwise.dels);
  }
  for (const op of ops) {
    if (op.request?.$case !== 'requestPut') continue;
    addPut(op.request.value.key);
  }
  return { puts, dels };
}
