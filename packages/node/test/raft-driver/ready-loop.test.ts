/**
 * Goal: the RaftDriver turns proposals into durable, applied entries and survives restarts as etcd does: a new
 * member elects itself at term 2, a restarted one at term 3; every proposal of one event-loop turn is one WAL save;
 * a restart re-applies nothing twice, and entries that reached the WAL but not the backend before a crash are
 * applied on restart; compaction keeps the catch-up slack; overload and shutdown give etcd's errors.
 * Method: the real RawNode, Wal, Backend, KvStore and Applier on temp dirs, driven by a manual Clock (no timers
 * except the setImmediate that batches a turn's proposals); restarts reopen the same dirs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { corvidpb, etcdserverpb } from '@corvid/proto';
import { Applier, type ApplyResult } from '../../src/apply/index.js';
import { KvStore } from '../../src/mvcc/index.js';
import { bootstrapWal, createRaftDriverMetrics, NO_PEERS, RaftDriver, Wal, type Clock } from '../../src/raft-driver/index.js';
import { createServerMetrics } from '../../src/server/metrics.js';
import { Backend } from '../../src/storage/index.js';
import { putOp, type Op } from '../mvcc/harness.js';

const MEMBER = 0x8e9e05c52164694dn;

class ManualClock implements Clock {
  private now = 0;
  private readonly timers: Array<{ intervalMs: number; nextMs: number; fn: () => void; cancelled: boolean }> = [];

  nowMs(): number {
    return this.now;
  }

  every(intervalMs: number, fn: () => void): { cancel(): void } {
    const t = { intervalMs, nextMs: this.now + intervalMs, fn, cancelled: false };
    this.timers.push(t);
    return { cancel: () => void (t.cancelled = true) };
  }

  advance(ms: number): void {
    const target = this.now + ms;
    for (;;) {
      const due = this.timers.filter((t) => !t.cancelled && t.nextMs <= target).sort((a, b) => a.nextMs - b.nextMs)[0];
      if (due === undefined) break;
      this.now = due.nextMs;
      due.nextMs += due.intervalMs;
      due.fn();
    }
    this.now = target;
  }
}

/** One member's stores and driver; `restart()` closes everything and reopens the same dirs. */
class Member {
  backend!: Backend;
  kv!: KvStore;
  applier!: Applier;
  wal!: Wal;
  driver!: RaftDriver<ApplyResult>;
  registry!: Registry;
  readonly clock = new ManualClock();
  readonly fatal: unknown[] = [];
  private nextId = 1n;

  constructor(readonly dir: string, private readonly overrides: { snapshotCount?: number; catchUp?: number; maxPending?: number; walWriteThread?: boolean } = {}) {
    this.open();
  }

  open(): void {
    this.backend = Backend.open({ dataDir: this.dir });
    this.kv = new KvStore(this.backend);
    this.applier = new Applier(this.backend, this.kv);
    this.wal = Wal.open({ dataDir: this.dir, writeThread: this.overrides.walWriteThread === true });
    this.registry = new Registry();
    bootstrapWal(this.wal, [MEMBER], Math.max(1, this.applier.appliedIndex()));
    const metrics = { ...createServerMetrics(this.registry, { serverVersion: '3.4.0', memberIdHex: 'x', quotaBackendBytes: 2 ** 31 }), ...createRaftDriverMetrics(this.registry) };
    this.driver = new RaftDriver<ApplyResult>({
      memberId: MEMBER, wal: this.wal, applier: this.applier, store: this.backend, clock: this.clock, transport: NO_PEERS,
      heartbeatIntervalMs: 100, electionTimeoutMs: 1000,
      snapshotCount: this.overrides.snapshotCount ?? 100_000,
      snapshotCatchUpEntries: this.overrides.catchUp ?? 5000,
      maxPendingProposals: this.overrides.maxPending ?? 5000,
      walWriteThread: this.overrides.walWriteThread ?? false,
      requestTimeoutMs: 7000,
      metrics,
      logger: { debug: () => undefined, info: () => undefined, warn: () => undefined },
      random: () => 0,
      onFatal: (err) => this.fatal.push(err),
      snapshotFile: (snap) => join(this.dir, 'member', 'snap', `${snap.metadata.term}-${snap.metadata.index}.db`),
    });
    this.driver.start();
  }

  async close(): Promise<void> {
    await this.driver.close();
    await this.kv.close();
    await this.wal.close();
    await this.backend.close();
  }

  async restart(between?: () => Promise<void>): Promise<void> {
    await this.close();
    await between?.();
    this.open();
    // start() replays synchronously; the election's Ready is saved asynchronously.
    await this.driver.settled();
  }

  encode(op: Op): Uint8Array {
    return corvidpb.InternalRequest.encode({ header: corvidpb.RequestHeader.fromPartial({ id: this.nextId++, memberId: MEMBER, proposedAtMs: 0n }), request: op }).finish();
  }

  async put(key: string, value = 'v'): Promise<etcdserverpb.PutResponse> {
    const result = await this.driver.propose(this.encode(putOp(key, value)));
    if (!result.ok) throw result.error;
    return result.response as etcdserverpb.PutResponse;
  }

  async walSaves(): Promise<number> {
    const text = await this.registry.getSingleMetricAsString('etcd_disk_wal_fsync_duration_seconds');
    return Number(/^etcd_disk_wal_fsync_duration_seconds_count (\d+)$/m.exec(text)?.[1] ?? 0);
  }
}

const members: Member[] = [];
const dirs: string[] = [];
/** Which WAL save the describe block below runs with (it runs once for each). */
let walWriteThread = false;
function newMember(overrides?: ConstructorParameters<typeof Member>[1]): Member {
  const dir = mkdtempSync(join(tmpdir(), 'corvid-driver-'));
  dirs.push(dir);
  const m = new Member(dir, { walWriteThread, ...overrides });
  members.push(m);
  return m;
}

afterEach(async () => {
  for (const m of members.splice(0)) {
    await m.close();
    expect(m.fatal).toEqual([]);
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe.each([['on the event loop', false], ['on lmdb-js\'s write thread', true]])('RaftDriver, WAL saved %s', (_name, onWriteThread) => {
  beforeEach(() => {
    walWriteThread = onWriteThread;
  });

  it('bootstraps a new member and elects it at term 2, as etcd', async () => {
    const m = newMember();
    expect(await m.driver.waitForLeader(1000)).toBe(true);
    await m.driver.settled();
    // Bootstrap snapshot at 1 (term 1); the leader's empty entry at 2 is committed and applied.
    expect(m.driver.status()).toEqual({ leader: MEMBER, term: 2, commitIndex: 2, appliedIndex: 2, lastIndex: 2 });
    expect(m.applier.appliedIndex()).toBe(2);
    expect(m.wal.initialState().hardState).toEqual({ term: 2, vote: MEMBER, commit: 2 });
    const metrics = await m.registry.metrics();
    expect(metrics).toMatch(/^etcd_server_has_leader 1$/m);
    expect(metrics).toMatch(/^etcd_server_is_leader 1$/m);
    expect(metrics).toMatch(/^etcd_server_leader_changes_seen_total 1$/m);
  });

  it('commits the proposals of one turn with one WAL save and answers each with its own response', async () => {
    const m = newMember();
    await m.driver.settled();
    const savesBefore = await m.walSaves();
    const responses = await Promise.all(['a', 'b', 'c'].map(async (k) => m.put(k)));
    expect(responses.map((r) => Number(r.header?.revision))).toEqual([2, 3, 4]);
    expect(await m.walSaves()).toBe(savesBefore + 1);
    expect(m.driver.status()).toMatchObject({ commitIndex: 5, appliedIndex: 5, lastIndex: 5 });
    expect(m.wal.lastIndex()).toBe(5);
    // An entry that fails in the applier answers its own caller with the error, the others still succeed.
    const bad = await m.driver.propose(m.encode(putOp('x', 'y', { lease: 9n })));
    expect(bad.ok ? 'ok' : bad.error.code).toBe('LeaseNotFound');
  });

  it('restarts at term 3 without re-applying anything', async () => {
    const m = newMember();
    for (let i = 0; i < 5; i++) await m.put(`k${i}`, `v${i}`);
    const before = { hash: m.kv.hashKV(0), rev: m.kv.currentRevision(), applied: m.applier.appliedIndex() };
    await m.restart();
    expect(m.driver.term()).toBe(3);
    expect(m.driver.status()).toMatchObject({ leader: MEMBER, term: 3, appliedIndex: before.applied + 1 });
    expect(m.kv.currentRevision()).toBe(before.rev);
    expect(m.kv.hashKV(0)).toEqual(before.hash);
    expect(Number((await m.put('after')).header?.revision)).toBe(before.rev + 1);
  });

  it('applies on restart the entries that reached the WAL but not the backend before a crash', async () => {
    const m = newMember();
    await m.put('k0');
    const rev = m.kv.currentRevision();
    const applied = m.applier.appliedIndex();
    await m.restart(async () => {
      // The crash: three more puts are in the WAL (and committed) but were never applied.
      const wal = Wal.open({ dataDir: m.dir });
      const term = wal.initialState().hardState.term;
      const last = wal.lastIndex();
      const entries = [1, 2, 3].map((i) => ({ index: last + i, term, type: 'Normal' as const, data: m.encode(putOp(`lost${i}`, `v${i}`)) }));
      wal.save({ term, vote: MEMBER, commit: last + 3 }, entries, null);
      await wal.close();
    });
    expect(m.applier.appliedIndex()).toBe(applied + 3 + 1);
    expect(m.kv.currentRevision()).toBe(rev + 3);
    const got = m.kv.range(etcdserverpb.RangeRequest.fromPartial({ key: Buffer.from('lost'), rangeEnd: Buffer.from('lost~') }));
    expect(got.kvs.map((kv) => [Buffer.from(kv.key).toString(), Number(kv.modRevision)])).toEqual([['lost1', rev + 1], ['lost2', rev + 2], ['lost3', rev + 3]]);
    // And a second restart applies none of them again.
    const hash = m.kv.hashKV(0);
    await m.restart();
    expect(m.kv.hashKV(0)).toEqual(hash);
  });

  it('snapshots every --snapshot-count entries and compacts the WAL, keeping the catch-up slack', async () => {
    const m = newMember({ snapshotCount: 10, catchUp: 4 });
    for (let i = 0; i < 12; i++) await m.put(`k${i}`);
    // Compaction's WAL writes commit on lmdb-js's write thread: wait for them (up to 5 s).
    for (let i = 0; i < 500 && m.wal.firstIndex() === 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    const snap = m.wal.snapshot();
    const snapIndex = snap.ok ? snap.value.metadata.index : 0;
    expect(snapIndex).toBeGreaterThan(11);
    expect(snap.ok && snap.value.metadata.confState).toEqual({ voters: [MEMBER], learners: [] });
    expect(m.wal.firstIndex()).toBe(snapIndex - 4 + 1);
    const hash = m.kv.hashKV(0);
    await m.restart();
    expect(m.kv.hashKV(0)).toEqual(hash);
    expect(m.driver.term()).toBe(3);
  });

  it('refuses proposals beyond the waiter bound, and after close, with etcd\'s errors', async () => {
    const m = newMember({ maxPending: 2 });
    const outcomes = await Promise.allSettled(['a', 'b', 'c'].map(async (k) => m.put(k)));
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? 'ok' : (o.reason as { code: string }).code))).toEqual(['ok', 'ok', 'TooManyRequests']);
    await m.driver.close();
    await expect(m.put('late')).rejects.toMatchObject({ code: 'Stopped' });
  });

  it('ticks from the clock: a leader stays leader across many election timeouts', async () => {
    const m = newMember();
    m.clock.advance(10_000);
    expect(m.driver.status()).toMatchObject({ leader: MEMBER, term: 2 });
    expect(Number((await m.put('k')).header?.revision)).toBe(2);
  });
});
