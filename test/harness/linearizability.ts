/**
 * A linearizability checker for single-key histories of an etcd-like store, where every write's revision is the
 * witness of its place in the order (so no search is needed, unlike a general porcupine check). Times come from
 * one monotonic clock (performance.now()) in the test process.
 */

/** A put: `revision` and `completedMs` are set once it is acknowledged. */
export interface Write {
  readonly key: string;
  readonly value: string;
  readonly invokedMs: number;
  completedMs?: number;
  revision?: number;
}

/** A linearizable range of one key: the value found (null if none), its mod_revision and the header revision. */
export interface Read {
  readonly key: string;
  readonly invokedMs: number;
  readonly completedMs: number;
  readonly value: string | null;
  readonly mod: number;
  readonly header: number;
}

/** Violations of the four rules for one key, as readable lines. */
export function checkKey(key: string, writes: Write[], reads: Read[]): string[] {
  const problems: string[] = [];
  const byValue = new Map(writes.filter((w) => w.key === key).map((w) => [w.value, w]));
  const acked = writes.filter((w) => w.key === key && w.completedMs !== undefined && w.revision !== undefined);
  for (const r of reads.filter((x) => x.key === key)) {
    const w = r.value === null ? undefined : byValue.get(r.value);
    if (r.value !== null && (w === undefined || (w.revision !== undefined && w.revision !== r.mod))) {
      problems.push(`${key}: read ${r.value}@${r.mod}, but no write of that value at that revision`);
    }
    if (w !== undefined && w.invokedMs > r.completedMs) problems.push(`${key}: read ${r.value} before its write was invoked`);
    const newest = acked.filter((a) => (a.completedMs ?? Infinity) < r.invokedMs).reduce((m, a) => Math.max(m, a.revision ?? 0), 0);
    if (r.mod < newest) problems.push(`${key}: stale read ${r.value}@${r.mod} after a write at ${newest} was acknowledged`);
    if (r.header < newest) problems.push(`${key}: read header revision ${r.header} < acknowledged ${newest}`);
  }
  const sorted = [...acked].sort((x, y) => (x.completedMs ?? 0) - (y.completedMs ?? 0));
  for (const a of sorted) {
    for (const b of sorted) {
      if ((a.completedMs ?? 0) < b.invokedMs && (a.revision ?? 0) >= (b.revision ?? 0)) problems.push(`${key}: ${a.value}@${a.revision} acknowledged before ${b.value}@${b.revision} was sent`);
    }
  }
  return problems;
}
