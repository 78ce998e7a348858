/**
 * Two linearizability checkers for histories of an etcd-like store, with times from one monotonic clock
 * (performance.now()) in the test process:
 *  - `checkKey`: single-key put/get histories where every write's revision is the witness of its place in the order,
 *    so no search is needed;
 *  - `checkHistory`: the general check, Wing & Gong's search with Lowe's memoisation as Porcupine runs it, over a
 *    key-value model with put, get and compare-and-swap. Every operation touches one key, so the history is split
 *    per key (P-compositionality: a history is linearizable iff each key's sub-history is) and each key is searched
 *    alone. An operation whose outcome is unknown (timeout, member gone) is kept as possibly applied: it returns at
 *    +Infinity and its output is not checked, so it may take effect at any time after its invocation, or never.
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

/** An operation of the key-value model. `cas` puts `value` iff the key's value is `expected` (null: absent). */
export type KvInput =
  | { readonly kind: 'put'; readonly key: string; readonly value: string }
  | { readonly kind: 'get'; readonly key: string }
  | { readonly kind: 'cas'; readonly key: string; readonly expected: string | null; readonly value: string };

export type KvOutput =
  | { readonly kind: 'put' }
  | { readonly kind: 'get'; readonly value: string | null }
  | { readonly kind: 'cas'; readonly succeeded: boolean };

/** One client call: invoked before the request left, returned after the answer arrived. */
export interface Operation {
  readonly client: number;
  readonly input: KvInput;
  readonly invokedMs: number;
  /** +Infinity when the outcome is unknown. */
  readonly returnedMs: number;
  /** undefined when the outcome is unknown. */
  readonly output: KvOutput | undefined;
}

export interface KeyVerdict {
  readonly key: string;
  readonly operations: number;
  /** 'ok', 'violation', or 'timeout' when the search ran out of time (treat as a failure to check). */
  readonly result: 'ok' | 'violation' | 'timeout';
  /** For a violation: the operation the search could not place, with the ones still open around it. */
  readonly detail?: string;
}

type State = string | null;

/** The model's transition: the next state, or undefined when `output` is impossible in `state`. */
function step(state: State, input: KvInput, output: KvOutput | undefined): State | undefined {
  switch (input.kind) {
    case 'put':
      return input.value;
    case 'get':
      return output === undefined || (output.kind === 'get' && output.value === state) ? state : undefined;
    case 'cas': {
      const applies = state === input.expected;
      if (output !== undefined && (output.kind !== 'cas' || output.succeeded !== applies)) return undefined;
      return applies ? input.value : state;
    }
  }
}

export const describeOp = (op: Operation): string => {
  const i = op.input;
  const call = i.kind === 'put' ? `put(${i.key}, ${i.value})` : i.kind === 'get' ? `get(${i.key})` : `cas(${i.key}, ${String(i.expected)} -> ${i.value})`;
  const o = op.output;
  const result = o === undefined ? '?' : o.kind === 'put' ? 'ok' : o.kind === 'get' ? String(o.value) : String(o.succeeded);
  return `c${op.client} ${call} = ${result} [${op.invokedMs.toFixed(1)}, ${op.returnedMs === Infinity ? 'unknown' : op.returnedMs.toFixed(1)}]`;
};

interface Entry {
  readonly op: number;
  readonly call: boolean;
  readonly time: number;
  match: Entry | undefined; // the call's return entry
  prev: Entry | undefined;
  next: Entry | undefined;
}

/** Builds the doubly linked list of call and return entries, by time; a call sorts before a return at the same time. */
function entries(ops: readonly Operation[]): Entry {
  const list: Entry[] = [];
  ops.forEach((op, i) => {
    const ret: Entry = { op: i, call: false, time: op.returnedMs, match: undefined, prev: undefined, next: undefined };
    list.push({ op: i, call: true, time: op.invokedMs, match: ret, prev: undefined, next: undefined }, ret);
  });
  list.sort((a, b) => a.time - b.time || Number(b.call) - Number(a.call));
  const head: Entry = { op: -1, call: false, time: -Infinity, match: undefined, prev: undefined, next: undefined };
  let prev = head;
  for (const e of list) {
    prev.next = e;
    e.prev = prev;
    prev = e;
  }
  return head;
}

function lift(call: Entry): void {
  for (const e of [call, call.match as Entry]) {
    (e.prev as Entry).next = e.next;
    if (e.next !== undefined) e.next.prev = e.prev;
  }
}

function unlift(call: Entry): void {
  for (const e of [call.match as Entry, call]) {
    (e.prev as Entry).next = e;
    if (e.next !== undefined) e.next.prev = e;
  }
}

/**
 * Zobrist-style hash of the set of linearized operations: two 32-bit halves, each the XOR of a fixed pseudo-random
 * word per operation, so adding or removing an operation is O(1). With the state it keys Lowe's cache of
 * configurations already explored (a false hit, at odds of about 2^-64 per pair, could only hide a linearization).
 */
function zobrist(count: number): Uint32Array {
  const words = new Uint32Array(count * 2);
  let x = 0x9e3779b9;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return words;
}

/**
 * Stands for every value no get returns and no CAS expects: such values look alike to every later operation (a get
 * cannot return one, a CAS cannot match one), so states holding any of them are one state to the cache.
 */
const UNOBSERVED = '\u0000unobserved';

/** Maps a state to its class: itself if some operation observes it, else UNOBSERVED. */
function canonicalizer(ops: readonly Operation[]): (state: State) => State {
  const observed = new Set<string>();
  for (const o of ops) {
    if (o.output?.kind === 'get' && o.output.value !== null) observed.add(o.output.value);
    if (o.input.kind === 'cas' && o.input.expected !== null) observed.add(o.input.expected);
  }
  return (state) => (state === null || observed.has(state) ? state : UNOBSERVED);
}

/**
 * Wing–Gong–Lowe search over one key's operations, with three reductions for possibly-applied operations (whose
 * return is at +Infinity), each sound because such an operation may also never take effect:
 *  - the search succeeds once every operation with a known outcome is linearized (the rest never happened);
 *  - a possibly-applied operation is not tried where it would change nothing;
 *  - possibly-applied puts of unobserved values are interchangeable once invoked (same effect, open forever), so at
 *    each point only the first of them is tried.
 * Without these, each kill or partition leaves a few more operations open forever and the search to prove a
 * violation grows as 2^(open operations).
 */
export function checkKeyHistory(key: string, ops: readonly Operation[], deadlineMs = 30_000): KeyVerdict {
  const head = entries(ops);
  const words = zobrist(ops.length);
  const canonical = canonicalizer(ops);
  const unobservedPut = ops.map((o) => o.output === undefined && o.input.kind === 'put' && canonical(o.input.value) === UNOBSERVED);
  const cache = new Set<string>();
  const stack: { call: Entry; state: State; skipUnobserved: boolean }[] = [];
  let [h0, h1] = [0, 0];
  let state: State = null;
  let entry = head.next;
  let knownLeft = ops.filter((o) => o.output !== undefined).length;
  /** True once an unobserved possibly-applied put has been tried at the current point. */
  let skipUnobserved = false;
  let deepest: { depth: number; op: number } = { depth: -1, op: -1 };
  const stopAt = performance.now() + deadlineMs;
  for (let steps = 0; knownLeft > 0; steps++) {
    if ((steps & 0xfff) === 0 && performance.now() > stopAt) return { key, operations: ops.length, result: 'timeout' };
    const e = entry as Entry;
    const op = ops[e.op] as Operation;
    if (e.call) {
      const raw = step(state, op.input, op.output);
      const next = raw === undefined ? undefined : canonical(raw);
      const pointless = op.output === undefined && (next === state || (unobservedPut[e.op] === true && skipUnobserved));
      if (next !== undefined && !pointless) {
        const [n0, n1] = [(h0 ^ (words[2 * e.op] as number)) >>> 0, (h1 ^ (words[2 * e.op + 1] as number)) >>> 0];
        const id = `${n0}:${n1}:${next === null ? '\u0000' : next}`;
        if (!cache.has(id)) {
          cache.add(id);
          stack.push({ call: e, state, skipUnobserved });
          [state, h0, h1, skipUnobserved] = [next, n0, n1, false];
          if (op.output !== undefined) knownLeft--;
          lift(e);
          entry = head.next;
          continue;
        }
        if (unobservedPut[e.op] === true) skipUnobserved = true;
      }
      entry = e.next;
      continue;
    }
    // A return whose call is not linearized yet: undo the last choice and try the next candidate.
    if (stack.length > deepest.depth) deepest = { depth: stack.length, op: e.op };
    const top = stack.pop();
    if (top === undefined) return { key, operations: ops.length, result: 'violation', detail: violationDetail(ops, deepest.op) };
    state = top.state;
    skipUnobserved = top.skipUnobserved || unobservedPut[top.call.op] === true;
    h0 = (h0 ^ (words[2 * top.call.op] as number)) >>> 0;
    h1 = (h1 ^ (words[2 * top.call.op + 1] as number)) >>> 0;
    if ((ops[top.call.op] as Operation).output !== undefined) knownLeft++;
    unlift(top.call);
    entry = top.call.next;
  }
  return { key, operations: ops.length, result: 'ok' };
}

/** The operation that could not be placed and those overlapping it in time. */
function violationDetail(ops: readonly Operation[], stuck: number): string {
  const s = ops[stuck] as Operation;
  const around = ops.filter((o) => o !== s && o.invokedMs <= s.returnedMs && o.returnedMs >= s.invokedMs - 1);
  return [`cannot linearize ${describeOp(s)}`, ...around.slice(0, 20).map((o) => `  concurrent or adjacent: ${describeOp(o)}`)].join('\n');
}

/** Splits the history per key and checks each key; the verdicts of the keys that failed (empty: linearizable). */
export function checkHistory(ops: readonly Operation[], deadlineMsPerKey?: number): KeyVerdict[] {
  const byKey = new Map<string, Operation[]>();
  for (const op of ops) {
    const list = byKey.get(op.input.key) ?? [];
    list.push(op);
    byKey.set(op.input.key, list);
  }
  return [...byKey].map(([key, list]) => checkKeyHistory(key, list, deadlineMsPerKey)).filter((v) => v.result !== 'ok');
}
