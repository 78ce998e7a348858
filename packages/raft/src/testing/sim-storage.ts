/**
 * Storage for a simulated member with a volatile and a durable copy. Writes land in the volatile copy (which the
 * core reads, like an OS page cache) and are queued; sync() makes them durable. A crash keeps a random prefix of
 * the unsynced writes (a torn write) and discards the rest.
 */
import type { ConfState, Entry, HardState, Snapshot } from '../messages.js';
import type { LogStorage, StorageResult } from '../storage.js';
import { MemoryStorage } from '../storage.js';
import type { Prng } from './prng.js';

type Write =
  | { readonly kind: 'snapshot'; readonly snapshot: Snapshot }
  | { readonly kind: 'entries'; readonly entries: readonly Entry[] }
  | { readonly kind: 'hardState'; readonly hardState: HardState };

function applyWrite(s: MemoryStorage, w: Write): void {
  if (w.kind === 'snapshot') s.applySnapshot(w.snapshot);
  else if (w.kind === 'entries') s.append(w.entries);
  else s.setHardState(w.hardState);
}

export class SimStorage implements LogStorage {
  private live: MemoryStorage;
  private unsynced: Write[] = [];

  constructor(private durable: MemoryStorage) {
    this.live = durable.clone();
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return this.live.initialState();
  }
  entries(lo: number, hi: number, maxSizeBytes: number): StorageResult<readonly Entry[]> {
    return this.live.entries(lo, hi, maxSizeBytes);
  }
  term(index: number): StorageResult<number> {
    return this.live.term(index);
  }
  lastIndex(): number {
    return this.live.lastIndex();
  }
  firstIndex(): number {
    return this.live.firstIndex();
  }
  snapshot(): StorageResult<Snapshot> {
    return this.live.snapshot();
  }

  private write(w: Write): void {
    applyWrite(this.live, w);
    this.unsynced.push(w);
  }

  applySnapshot(snapshot: Snapshot): void {
    this.write({ kind: 'snapshot', snapshot });
  }

  append(entries: readonly Entry[]): void {
    // One write per entry, so a crash can tear a batch between entries.
    for (const e of entries) this.write({ kind: 'entries', entries: [e] });
  }

  setHardState(hardState: HardState): void {
    this.write({ kind: 'hardState', hardState });
  }

  hasUnsynced(): boolean {
    return this.unsynced.length > 0;
  }

  sync(): void {
    for (const w of this.unsynced) applyWrite(this.durable, w);
    this.unsynced = [];
  }

  /** Loses the unsynced writes except a random prefix, and returns how many writes survived. */
  crash(prng: Prng): number {
    const keep = prng.below(this.unsynced.length + 1);
    for (const w of this.unsynced.slice(0, keep)) applyWrite(this.durable, w);
    this.unsynced = [];
    this.live = this.durable.clone();
    return keep;
  }

  /** The application's own durable snapshot-and-compact (only while nothing is unsynced). */
  snapshotAndCompact(index: number, confState: ConfState, data: Uint8Array, compactIndex: number): boolean {
    if (this.unsynced.length > 0 || index > this.durable.lastIndex()) return false;
    if (!this.durable.createSnapshot(index, confState, data)) return false;
    this.live.createSnapshot(index, confState, data);
    if (compactIndex > this.durable.firstIndex() - 1 && compactIndex <= index) {
      this.durable.compact(compactIndex);
      this.live.compact(compactIndex);
    }
    return true;
  }

  durableHardState(): HardState {
    return this.durable.hardStateNow();
  }

  durableLastIndex(): number {
    return this.durable.lastIndex();
  }

  durableSnapshot(): Snapshot {
    const s = this.durable.snapshot();
    if (!s.ok) throw new Error('memory storage always has a snapshot');
    return s.value;
  }

  /** Term of an index in the volatile log (which the core sees), or null if absent. */
  liveTerm(index: number): number | null {
    const t = this.live.term(index);
    return t.ok ? t.value : null;
  }

  liveFirstIndex(): number {
    return this.live.firstIndex();
  }

  liveLastIndex(): number {
    return this.live.lastIndex();
  }
}
