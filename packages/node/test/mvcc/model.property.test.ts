/**
 * Goal: the store agrees with a naive model of etcd's MVCC on any history. Method: fast-check
 * generates sequences of puts, deletes (single and ranges), txns (version compare, two branches),
 * compactions, "settle" (await physical compaction) and reopen; the same ops run on the real
 * store (Applier on LMDB) and on an in-memory model that keeps every version of every key.
 * After the run, ranges at random revisions with random options must return what the model says,
 * errors included. On failure fast-check prints the seed and path; rerun with CORVID_SEED=<seed>.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { etcdserverpb } from '@corvid/proto';
import { Harness, compactOp, delOp, putOp, rDel, rPut, txnOp, type Op } from './harness.js';
import { compareBytes } from '../../src/util/bytes.js';

const { RangeRequest_SortOrder: Order, RangeRequest_SortTarget: Target, Compare_CompareResult: R, Compare_CompareTarget: T } = etcdserverpb;
const KEYS = ['a', 'ab', 'b', 'b\u0000', 'b\u0000x', 'c', '\u0000z'];
const ENDS = ['', '\u0000', 'b', 'b\u0000', 'c', 'd', 'a'];

interface Version { rev: number; tombstone: boolean; create: number; version: number; value: string }
type MOp =
  | { kind: 'put'; key: string; value: string }
  | { kind: 'del'; key: string; end: string }
  | { kind: 'txn'; key: string; version: number; success: MOp[]; failure: MOp[] }
  | { kind: 'compact'; back: number }
  | { kind: 'settle' }
  | { kind: 'reopen' };

class Model {
  rev = 1;
  compactRev = -1;
  readonly versions = new Map<string, Version[]>();

  latest(key: string, at = this.rev): Version | undefined {
    const vs = (this.versions.get(key) ?? []).filter((v) => v.rev <= at);
    const v = vs[vs.length - 1];
    return v === undefined || v.tombstone ? undefined : v;
  }
  inRange(key: string, start: string, end: string): boolean {
    const k = Buffer.from(key);
    if (end === '') return key === start;
    if (compareBytes(k, Buffer.from(start)) < 0) return false;
    return end === '\u0000' || compareBytes(k, Buffer.from(end)) < 0;
  }
  write(op: MOp, rev: number, changed: { n: number }): void {
    if (op.kind === 'put') {
      const prev = this.latest(op.key, rev);
      const v = { rev, tombstone: false, create: prev?.create ?? rev, version: (prev?.version ?? 0) + 1, value: op.value };
      this.versions.set(op.key, [...(this.versions.get(op.key) ?? []), v]);
      changed.n++;
    } else if (op.kind === 'del') {
      for (const key of KEYS) {
        if (!this.inRange(key, op.key, op.end) || this.latest(key, rev) === undefined) continue;
        this.versions.get(key)?.push({ rev, tombstone: true, create: 0, version: 0, value: '' });
        changed.n++;
      }
    }
  }
  apply(op: MOp): void {
    const changed = { n: 0 };
    const rev = this.rev + 1;
    if (op.kind === 'txn') {
      const ok = (this.latest(op.key)?.version ?? 0) === op.version;
      for (const o of ok ? op.success : op.failure) this.write(o, rev, changed);
    } else if (op.kind === 'compact') {
      const target = this.rev - op.back;
      if (target > this.compactRev) this.compactRev = target;
    } else {
      this.write(op, rev, changed);
    }
    if (changed.n > 0) this.rev = rev;
  }
}

function toOp(op: MOp, model: Model): Op | undefined {
  switch (op.kind) {
    case 'put':
      return putOp(op.key, op.value);
    case 'del':
      return delOp(op.key, op.end === '' ? undefined : op.end);
    case 'txn': {
      const req = (o: MOp) => (o.kind === 'put' ? rPut(o.key, o.value) : o.kind === 'del' ? rDel(o.key, o.end === '' ? undefined : o.end) : {});
      const compare = [{ key: Buffer.from(op.key), target: T.VERSION, result: R.EQUAL, targetUnion: { $case: 'version' as const, value: BigInt(op.version) } }];
      return txnOp({ compare, success: op.success.map(req), failure: op.failure.map(req) });
    }
    case 'compact':
      return compactOp(model.rev - op.back, op.back % 2 === 0);
    default:
      return undefined;
  }
}

const key = fc.constantFrom(...KEYS);
const write: fc.Arbitrary<MOp> = fc.oneof(
  fc.record({ kind: fc.constant('put' as const), key, value: fc.string({ maxLength: 3 }) }),
  fc.record({ kind: fc.constant('del' as const), key, end: fc.constantFrom(...ENDS) }),
);
const mop: fc.Arbitrary<MOp> = fc.oneof(
  { weight: 6, arbitrary: write },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('txn' as const), key, version: fc.nat(3), success: fc.array(write, { maxLength: 3 }), failure: fc.array(write, { maxLength: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('compact' as const), back: fc.nat(6) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'settle' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
);
const query = fc.record({
  key,
  end: fc.constantFrom(...ENDS),
  back: fc.integer({ min: -1, max: 12 }),
  limit: fc.nat(4),
  keysOnly: fc.boolean(),
  countOnly: fc.boolean(),
  order: fc.constantFrom(Order.NONE, Order.ASCEND, Order.DESCEND),
  target: fc.constantFrom(Target.KEY, Target.VERSION, Target.CREATE, Target.MOD, Target.VALUE),
  minMod: fc.nat(8),
  maxCreate: fc.constantFrom(0, 4, 9),
});
type Query = typeof query extends fc.Arbitrary<infer Q> ? Q : never;

function modelRange(m: Model, q: Query): unknown {
  const rev = q.back === -1 ? m.rev + 1 : Math.max(0, m.rev - q.back);
  if (rev > m.rev) return 'FutureRev';
  const at = rev === 0 ? m.rev : rev;
  if (at < m.compactRev) return 'Compacted';
  const live = KEYS.filter((k) => m.inRange(k, q.key, q.end) && m.latest(k, at) !== undefined).sort((x, y) => compareBytes(Buffer.from(x), Buffer.from(y)));
  const filtered = q.minMod !== 0 || q.maxCreate !== 0;
  const fetchLimit = q.order !== Order.NONE || filtered || q.limit === 0 ? Infinity : q.limit + 1;
  let items = q.countOnly ? [] : live.slice(0, fetchLimit).map((k) => ({ k, v: m.latest(k, at) as Version }));
  items = items.filter(({ v }) => (q.minMod === 0 || v.rev >= q.minMod) && (q.maxCreate === 0 || v.create <= q.maxCreate));
  const order = q.target !== Target.KEY && q.order === Order.NONE ? Order.ASCEND : q.order;
  const field = (x: { k: string; v: Version }): number | Buffer =>
    q.target === Target.KEY ? Buffer.from(x.k) : q.target === Target.VERSION ? x.v.version : q.target === Target.CREATE ? x.v.create : q.target === Target.MOD ? x.v.rev : Buffer.from(x.v.value);
  const cmp = (x: { k: string; v: Version }, y: { k: string; v: Version }): number => {
    const a = field(x);
    const c = field(y);
    return typeof a === 'number' && typeof c === 'number' ? a - c : compareBytes(a as Buffer, c as Buffer);
  };
  if (order === Order.ASCEND) items.sort(cmp);
  if (order === Order.DESCEND) items.sort((x, y) => cmp(y, x));
  const more = q.limit > 0 && items.length > q.limit;
  if (more) items = items.slice(0, q.limit);
  const kvs = items.map(({ k, v }) => [k, v.create, v.rev, v.version, q.keysOnly ? '' : v.value]);
  return { kvs, count: live.length, more };
}

function storeRange(h: Harness, m: Model, q: Query): unknown {
  const revision = q.back === -1 ? m.rev + 1 : Math.max(0, m.rev - q.back);
  try {
    const r = h.range({
      key: Buffer.from(q.key), rangeEnd: Buffer.from(q.end), revision: BigInt(revision), limit: BigInt(q.limit),
      keysOnly: q.keysOnly, countOnly: q.countOnly, sortOrder: q.order, sortTarget: q.target,
      minModRevision: BigInt(q.minMod), maxCreateRevision: BigInt(q.maxCreate),
    });
    const kvs = r.kvs.map((kv) => [kv.key.toString(), Number(kv.createRevision), Number(kv.modRevision), Number(kv.version), kv.value.toString()]);
    return { kvs, count: Number(r.count), more: r.more };
  } catch (err) {
    return (err as { code?: string }).code ?? err;
  }
}

async function run(ops: MOp[], queries: Query[]): Promise<void> {
  const h = Harness.open({ compactionChunkEntries: 2 });
  const m = new Model();
  try {
    for (const op of ops) {
      if (op.kind === 'settle') await h.kv.whenCompacted(h.kv.compactedRevision());
      else if (op.kind === 'reopen') await h.reopen();
      else {
        const req = toOp(op, m);
        if (req !== undefined) h.apply(req);
        m.apply(op);
      }
      expect(h.kv.currentRevision()).toBe(m.rev);
    }
    for (const q of queries) expect(storeRange(h, m, q)).toEqual(modelRange(m, q));
  } finally {
    await h.close();
  }
}

describe('store vs model', () => {
  it('agrees on ranges at every retained revision with every option', async () => {
    const seed = process.env.CORVID_SEED === undefined ? undefined : Number(process.env.CORVID_SEED);
    await fc.assert(
      fc.asyncProperty(fc.array(mop, { maxLength: 40 }), fc.array(query, { minLength: 5, maxLength: 25 }), run),
      { numRuns: Number(process.env.CORVID_RUNS ?? 150), ...(seed === undefined ? {} : { seed }), verbose: 1 },
    );
  }, 120_000);
});
