/**
 * A RangeRequest served from a view, following etcd 3.4's applierV3backend.Range and
 * mvcc rangeKeys: fetch (limit+1 unless sorting or filtering), count every key in range at the
 * revision, prune by min/max mod/create revision, sort (ASCEND when the order is NONE but the
 * target is not KEY), then truncate to `limit` and set `more`.
 */
import { etcdserverpb } from '@corvid/proto';
import { CorvidError } from '../errors/index.js';
import { compareBytes } from '../util/bytes.js';
import { keyRange, type KeyRange } from './key-range.js';
import { countLive, getAt, ReadBudget, scanAt, scanLive, type MvccDbs } from './reader.js';
import { decodeRecord, toKeyValue, type KvRecord } from './record.js';
import { revisionFromWire, type RevisionView } from './revision.js';

const { RangeRequest_SortOrder: SortOrder, RangeRequest_SortTarget: SortTarget } = etcdserverpb;

interface Item {
  readonly key: Buffer;
  readonly record: KvRecord;
}

export interface RangeOutcome {
  readonly kvs: etcdserverpb.RangeResponse['kvs'];
  readonly count: number;
  readonly more: boolean;
}

/** The revision a range reads at, or the error etcd returns for it (mvcc rangeKeys). */
export function resolveReadRevision(view: RevisionView, requested: bigint): number {
  const rev = revisionFromWire(requested);
  if (rev > view.rev) throw new CorvidError('FutureRev');
  const at = rev <= 0 ? view.rev : rev;
  if (at < view.compactRev) throw new CorvidError('Compacted');
  return at;
}

/**
 * Fetches up to `limit` items (0 = all) and counts every key of the range at `rev`; undefined if
 * `budget` ran out first (the result would be partial).
 */
function fetch(
  backend: MvccDbs,
  view: RevisionView,
  range: KeyRange,
  rev: number,
  limit: number,
  countOnly: boolean,
  budget: ReadBudget | undefined,
): { items: Item[]; count: number } | undefined {
  const items: Item[] = [];
  if (rev >= view.rev) {
    if (countOnly) {
      const count = countLive(backend, range, budget);
      return spent(budget) ? undefined : { items, count };
    }
    let n = 0;
    let complete = true;
    scanLive(backend, range, (key, value) => {
      if (budget !== undefined && !budget.spend()) return false;
      items.push({ key, record: decodeRecord(value) });
      n++;
      if (limit > 0 && n >= limit) complete = false;
      return complete;
    });
    if (spent(budget)) return undefined;
    const count = complete ? n : countLive(backend, range, budget);
    return spent(budget) ? undefined : { items, count };
  }
  if (range.single) {
    const record = range.empty ? undefined : getAt(backend, range.start, rev);
    if (record !== undefined && !countOnly) items.push({ key: range.start, record });
    return { items, count: record === undefined ? 0 : 1 };
  }
  let count = 0;
  scanAt(backend, range, rev, (key, value) => {
    count++;
    if (!countOnly && (limit <= 0 || items.length < limit)) items.push({ key, record: decodeRecord(value) });
    return true;
  }, budget);
  return spent(budget) ? undefined : { items, count };
}

/** Whether the budget ran out (a function, so TypeScript does not keep a narrowing across scans). */
function spent(budget: ReadBudget | undefined): boolean {
  return budget?.exceeded === true;
}

function prune(items: Item[], r: etcdserverpb.RangeRequest): Item[] {
  const maxMod = revisionFromWire(r.maxModRevision);
  const minMod = revisionFromWire(r.minModRevision);
  const maxCreate = revisionFromWire(r.maxCreateRevision);
  const minCreate = revisionFromWire(r.minCreateRevision);
  return items.filter(
    ({ record }) =>
      (maxMod === 0 || record.modRevision <= maxMod) &&
      (minMod === 0 || record.modRevision >= minMod) &&
      (maxCreate === 0 || record.createRevision <= maxCreate) &&
      (minCreate === 0 || record.createRevision >= minCreate),
  );
}

function comparator(target: etcdserverpb.RangeRequest_SortTarget): ((a: Item, b: Item) => number) | undefined {
  switch (target) {
    case SortTarget.KEY:
      return (a, b) => compareBytes(a.key, b.key);
    case SortTarget.VERSION:
      return (a, b) => a.record.version - b.record.version;
    case SortTarget.CREATE:
      return (a, b) => a.record.createRevision - b.record.createRevision;
    case SortTarget.MOD:
      return (a, b) => a.record.modRevision - b.record.modRevision;
    case SortTarget.VALUE:
      return (a, b) => compareBytes(a.record.value, b.record.value);
    default:
      return undefined;
  }
}

/**
 * Sorts in place, stably (ties keep key order, as Go's insertion sort does for etcd's small
 * results; etcd's sort.Sort is not stable for larger ones, so ties may order differently there).
 */
function sortItems(items: Item[], r: etcdserverpb.RangeRequest): void {
  let order = r.sortOrder;
  if (r.sortTarget !== SortTarget.KEY && order === SortOrder.NONE) order = SortOrder.ASCEND;
  if (order !== SortOrder.ASCEND && order !== SortOrder.DESCEND) return;
  const cmp = comparator(r.sortTarget);
  if (cmp === undefined) return;
  if (order === SortOrder.ASCEND) items.sort(cmp);
  else items.sort((a, b) => cmp(b, a));
}

/** Serves `r` from `view`; throws CorvidError('FutureRev' | 'Compacted'). */
export function rangeView(backend: MvccDbs, view: RevisionView, r: etcdserverpb.RangeRequest): RangeOutcome {
  return rangeWithin(backend, view, r, undefined) as RangeOutcome;
}

/**
 * As `rangeView`, but gives up (undefined) once the read has visited `budget` LMDB entries, so
 * the caller can serve a long read off the event loop. Revision errors are thrown before any
 * scan, whatever the budget.
 */
export function rangeWithin(backend: MvccDbs, view: RevisionView, r: etcdserverpb.RangeRequest, budget: ReadBudget | undefined): RangeOutcome | undefined {
  const rev = resolveReadRevision(view, r.revision);
  const requestLimit = revisionFromWire(r.limit);
  const filtered = r.minModRevision !== 0n || r.maxModRevision !== 0n || r.minCreateRevision !== 0n || r.maxCreateRevision !== 0n;
  let fetchLimit = r.sortOrder !== SortOrder.NONE || filtered ? 0 : requestLimit;
  if (fetchLimit > 0) fetchLimit += 1;
  const fetched = fetch(backend, view, keyRange(r.key, r.rangeEnd), rev, fetchLimit, r.countOnly, budget);
  if (fetched === undefined) return undefined;
  let items = filtered ? prune(fetched.items, r) : fetched.items;
  sortItems(items, r);
  let more = false;
  if (requestLimit > 0 && items.length > requestLimit) {
    items = items.slice(0, requestLimit);
    more = true;
  }
  return { kvs: items.map(({ key, record }) => toKeyValue(key, record, r.keysOnly)), count: fetched.count, more };
}
