/**
 * One simulated member: the same Ready loop a real member runs (persist, sync, send, apply, advance), split
 * into a write and a later sync so that a crash can land in between. Restarts go through the production
 * restart path: a new RawNode from the storage's durable hard state, entries and snapshot.
 */
import type { ConfState, Entry, NodeId } from '../messages.js';
import { decodeConfChange } from '../messages.js';
import { contextKey } from '../read-only.js';
import { RawNode } from '../raw-node.js';
import type { Ready } from '../ready.js';
import type { RaftConfig } from '../config.js';
import type { LogView, SafetyChecker } from './checkers.js';
import { mixEntry } from './checkers.js';
import type { Prng } from './prng.js';
import type { SimNetwork } from './sim-network.js';
import type { SimStorage } from './sim-storage.js';

export type SimNodeConfig = Omit<RaftConfig, 'id' | 'storage' | 'random' | 'applied' | 'logger'>;

export function encodeAppState(index: number, hash: number): Uint8Array {
  const out = new Uint8Array(12);
  const v = new DataView(out.buffer);
  v.setFloat64(0, index);
  v.setUint32(8, hash);
  return out;
}

export function decodeAppState(data: Uint8Array): { index: number; hash: number } {
  if (data.byteLength < 12) return { index: 0, hash: 0 };
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return { index: v.getFloat64(0), hash: v.getUint32(8) };
}

export class SimNode {
  raw: RawNode | null = null;
  status: 'up' | 'down' | 'removed' = 'down';
  appliedIndex = 0;
  hash = 0;
  confState: ConfState = { voters: [], learners: [] };
  snapshotIndex = 0;
  /** ReadIndex requests issued here: context → the index committed anywhere when it was issued. */
  readonly readsIssued = new Map<string, number>();
  /** Data of applied normal entries (for liveness markers). */
  readonly appliedData = new Set<string>();
  restartAtTick = 0;
  private pending: Ready | null = null;
  private syncAtStep = 0;

  constructor(
    readonly id: NodeId,
    readonly storage: SimStorage,
    private readonly cfg: SimNodeConfig,
    private readonly random: Prng,
    private readonly checker: SafetyChecker,
    private readonly trace: ((line: string) => void) | null,
  ) {}

  readonly logView: LogView = {
    term: (i) => this.storage.liveTerm(i),
    firstIndex: () => this.storage.liveFirstIndex(),
    lastIndex: () => this.storage.liveLastIndex(),
  };

  /** (Re)starts from durable storage, as a real member does after a crash. */
  start(): void {
    const snap = this.storage.durableSnapshot();
    const app = decodeAppState(snap.data);
    this.snapshotIndex = snap.metadata.index;
    this.appliedIndex = snap.metadata.index;
    this.hash = app.hash;
    this.confState = snap.metadata.confState;
    this.checker.onRestart(this.id, this.appliedIndex);
    this.raw = new RawNode({
      ...this.cfg, id: this.id, storage: this.storage, applied: this.appliedIndex,
      random: (n) => this.random.below(n),
    });
    this.status = 'up';
    this.pending = null;
  }

  crash(prng: Prng): void {
    const kept = this.storage.crash(prng);
    this.trace?.(`node ${this.id} crashed (kept ${kept} unsynced writes)`);
    this.raw = null;
    this.pending = null;
    this.status = 'down';
  }

  stop(): void {
    this.raw = null;
    this.pending = null;
    this.status = 'removed';
  }

  idle(): boolean {
    return this.pending === null && !this.storage.hasUnsynced();
  }

  /** Runs the Ready loop as far as it goes at this step. */
  process(nowStep: number, net: SimNetwork, syncDelaySteps: () => number): void {
    for (let i = 0; i < 8 && this.raw !== null; i++) {
      if (this.pending === null) {
        if (!this.raw.hasReady()) return;
        this.write(this.raw.ready());
        this.syncAtStep = nowStep + syncDelaySteps();
      }
      if (this.pending === null || nowStep < this.syncAtStep) return;
      this.syncAndApply(nowStep, net);
    }
  }

  private write(rd: Ready): void {
    this.pending = rd;
    if (rd.snapshot !== null) this.storage.applySnapshot(rd.snapshot);
    this.storage.append(rd.entries);
    if (rd.hardState !== null) this.storage.setHardState(rd.hardState);
    this.checker.onPersistEntries(this.id, rd.entries, this.logView);
    if (rd.softState !== null) {
      this.trace?.(`node ${this.id} is ${rd.softState.role} (lead ${rd.softState.lead}, term ${this.raw!.term})`);
      if (rd.softState.role === 'Leader') this.checker.onBecomeLeader(this.id, this.raw!.term, this.logView);
    }
  }

  private syncAndApply(nowStep: number, net: SimNetwork): void {
    const rd = this.pending!;
    const raw = this.raw!;
    this.storage.sync();
    const durable = this.storage.durableHardState();
    this.checker.onDurableHardState(this.id, durable);
    const durableLast = this.storage.durableLastIndex();
    for (const m of rd.messages) {
      this.checker.onSend(m, durable, durableLast);
      const queued = net.send(m, nowStep);
      // As a real transport does: report a snapshot stream's outcome, and unreachable peers.
      if (m.type === 'MsgSnap') raw.reportSnapshot(m.to, queued ? 'finish' : 'failure');
      else if (!queued) raw.reportUnreachable(m.to);
    }
    if (rd.snapshot !== null) {
      const app = decodeAppState(rd.snapshot.data);
      this.checker.onApplySnapshot(this.id, rd.snapshot.metadata.index, app.hash);
      this.appliedIndex = rd.snapshot.metadata.index;
      this.snapshotIndex = rd.snapshot.metadata.index;
      this.hash = app.hash;
      this.confState = rd.snapshot.metadata.confState;
    }
    let removed = false;
    for (const e of rd.committedEntries) removed = this.apply(raw, e) || removed;
    for (const rs of rd.readStates) {
      const key = contextKey(rs.requestCtx);
      const required = this.readsIssued.get(key);
      if (required !== undefined) this.checker.onReadState(this.id, rs.index, required);
      this.readsIssued.delete(key);
    }
    raw.advance(rd);
    this.pending = null;
    if (removed) {
      this.trace?.(`node ${this.id} applied its own removal and stops`);
      this.stop();
    }
  }

  /** Applies one committed entry; returns true if it removed this node. */
  private apply(raw: RawNode, e: Entry): boolean {
    this.hash = mixEntry(this.hash, e);
    this.appliedIndex = e.index;
    this.checker.onApply(this.id, e, this.hash);
    if (e.type === 'ConfChange') {
      const cc = decodeConfChange(e.data);
      this.confState = raw.applyConfChange(cc);
      this.trace?.(`node ${this.id} applied ${cc.type} ${cc.nodeId} at ${e.index}: voters [${this.confState.voters.join(' ')}] learners [${this.confState.learners.join(' ')}]`);
      return !this.confState.voters.includes(this.id) && !this.confState.learners.includes(this.id);
    }
    if (e.data.byteLength > 0) this.appliedData.add(String.fromCharCode(...e.data));
    return false;
  }

  /** The application compacts its log behind a snapshot of its applied state. */
  compact(keepEntries: number): boolean {
    if (this.raw === null || !this.idle() || this.appliedIndex <= this.snapshotIndex) return false;
    const ok = this.storage.snapshotAndCompact(this.appliedIndex, this.confState, encodeAppState(this.appliedIndex, this.hash),
      Math.max(this.appliedIndex - keepEntries, 0));
    if (ok) {
      this.snapshotIndex = this.appliedIndex;
      this.trace?.(`node ${this.id} snapshot at ${this.appliedIndex}, log from ${this.storage.liveFirstIndex()}`);
    }
    return ok;
  }
}
