/**
 * An in-memory cluster with instant, in-order delivery, for unit tests and the micro-benchmark (etcd's
 * `network` test helper). Storage is always durable here; the fault-injecting simulator is simulator.ts.
 */
import type { RaftConfig } from '../config.js';
import type { ConfState, Entry, Message, NodeId } from '../messages.js';
import { decodeConfChange } from '../messages.js';
import type { ReadState, StepResult } from '../raft.js';
import type { Ready } from '../ready.js';
import { RawNode } from '../raw-node.js';
import { MemoryStorage } from '../storage.js';
import { bootstrapStorage } from './bootstrap.js';
import { Prng } from './prng.js';

export interface ClusterOptions {
  readonly voters: readonly NodeId[];
  readonly learners?: readonly NodeId[];
  readonly electionTicks?: number;
  readonly heartbeatTicks?: number;
  readonly preVote?: boolean;
  readonly checkQuorum?: boolean;
  readonly maxSizePerMsgBytes?: number;
  readonly maxInflightMsgs?: number;
  readonly maxUncommittedEntriesSizeBytes?: number;
  readonly maxPendingReadIndexRequests?: number;
  readonly seed?: number;
}

export interface ClusterNode {
  readonly id: NodeId;
  raw: RawNode;
  readonly storage: MemoryStorage;
  /** Data of every applied normal entry with a non-empty payload, in order. */
  readonly applied: Uint8Array[];
  readonly appliedEntries: Entry[];
  readonly readStates: ReadState[];
  confState: ConfState;
  stopped: boolean;
}

export class TestCluster {
  readonly nodes = new Map<NodeId, ClusterNode>();
  /** Messages emitted and not yet delivered, in emission order. */
  inbox: Message[] = [];
  /** Every message emitted since the last takeSent(). */
  private sent: Message[] = [];
  private readonly blocked = new Set<string>();
  /** Return true to drop a message in flight. */
  dropFilter: ((m: Message) => boolean) | null = null;
  /** Rewrites a message in flight (return null to drop it); applied after dropFilter. */
  rewrite: ((m: Message) => Message | null) | null = null;
  /** Observes every Ready before it is handled (golden scripts print it). */
  onReady: ((id: NodeId, rd: Ready) => void) | null = null;
  private readonly prng: Prng;

  constructor(readonly opts: ClusterOptions) {
    this.prng = new Prng(opts.seed ?? 1);
    const cs: ConfState = { voters: [...opts.voters], learners: [...(opts.learners ?? [])] };
    for (const id of [...cs.voters, ...cs.learners]) this.addNode(id, bootstrapStorage(cs, new Uint8Array(0)));
  }

  config(id: NodeId, storage: MemoryStorage, applied = 0): RaftConfig {
    const o = this.opts;
    const rnd = this.prng.fork(`node-${id}`);
    return {
      id, storage, applied, electionTicks: o.electionTicks ?? 10, heartbeatTicks: o.heartbeatTicks ?? 1,
      preVote: o.preVote ?? false, checkQuorum: o.checkQuorum ?? false,
      maxSizePerMsgBytes: o.maxSizePerMsgBytes ?? 1024 * 1024, maxInflightMsgs: o.maxInflightMsgs ?? 256,
      maxUncommittedEntriesSizeBytes: o.maxUncommittedEntriesSizeBytes ?? 0, random: (n) => rnd.below(n),
      ...(o.maxPendingReadIndexRequests === undefined ? {} : { maxPendingReadIndexRequests: o.maxPendingReadIndexRequests }),
    };
  }

  /** Adds a node; without storage it is a joiner with an empty log and no configuration. */
  addNode(id: NodeId, storage = new MemoryStorage()): ClusterNode {
    const n: ClusterNode = {
      id, raw: new RawNode(this.config(id, storage)), storage, applied: [], appliedEntries: [], readStates: [],
      confState: storage.initialState().confState, stopped: false,
    };
    this.nodes.set(id, n);
    return n;
  }

  node(id: NodeId): ClusterNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  raw(id: NodeId): RawNode {
    return this.node(id).raw;
  }

  /** Restarts a node from its storage (which is always durable in this harness). */
  restart(id: NodeId): void {
    const n = this.node(id);
    n.raw = new RawNode(this.config(id, n.storage, n.storage.snapshot().ok ? n.storage.firstIndex() - 1 : 0));
    n.appliedEntries.length = 0;
    n.stopped = false;
  }

  /** Handles one Ready: persist, queue messages, apply committed entries, advance. */
  processReady(id: NodeId): boolean {
    const n = this.node(id);
    if (n.stopped || !n.raw.hasReady()) return false;
    const rd = n.raw.ready();
    this.onReady?.(id, rd);
    if (rd.snapshot !== null) n.storage.applySnapshot(rd.snapshot);
    n.storage.append(rd.entries);
    if (rd.hardState !== null) n.storage.setHardState(rd.hardState);
    for (const m of rd.messages) {
      this.inbox.push(m);
      this.sent.push(m);
    }
    for (const m of rd.messages) if (m.type === 'MsgSnap') n.raw.reportSnapshot(m.to, 'finish');
    if (rd.snapshot !== null) n.confState = rd.snapshot.metadata.confState;
    for (const e of rd.committedEntries) {
      n.appliedEntries.push(e);
      if (e.type === 'ConfChange') n.confState = n.raw.applyConfChange(decodeConfChange(e.data));
      else if (e.data.byteLength > 0) n.applied.push(e.data);
    }
    n.readStates.push(...rd.readStates);
    n.raw.advance(rd);
    return true;
  }

  flush(): void {
    let again = true;
    while (again) {
      again = false;
      for (const id of this.nodes.keys()) if (this.processReady(id)) again = true;
    }
  }

  canDeliver(m: Message): boolean {
    const to = this.nodes.get(m.to);
    if (to === undefined || to.stopped) return false;
    if (this.blocked.has(`${m.from}->${m.to}`)) return false;
    return this.dropFilter === null || !this.dropFilter(m);
  }

  /** Delivers every queued message once (new ones queue behind). Returns the delivered messages. */
  deliverAll(): Message[] {
    const batch = this.inbox;
    this.inbox = [];
    const delivered: Message[] = [];
    for (const original of batch) {
      if (!this.canDeliver(original)) continue;
      const m = this.rewrite === null ? original : this.rewrite(original);
      if (m === null) continue;
      delivered.push(m);
      this.node(m.to).raw.step(m);
      this.processReady(m.to);
    }
    return delivered;
  }

  /** Processes Readies and delivers messages until the cluster is quiet. */
  stabilize(maxRounds = 10_000): void {
    for (let i = 0; i < maxRounds; i++) {
      this.flush();
      if (this.inbox.length === 0) return;
      this.deliverAll();
    }
    throw new Error('cluster did not stabilize');
  }

  takeSent(): Message[] {
    const s = this.sent;
    this.sent = [];
    return s;
  }

  tick(id: NodeId, times = 1): void {
    for (let i = 0; i < times; i++) this.raw(id).tick();
  }

  tickAll(times = 1): void {
    for (let i = 0; i < times; i++) for (const n of this.nodes.values()) if (!n.stopped) n.raw.tick();
  }

  campaign(id: NodeId): void {
    this.raw(id).campaign();
    this.stabilize();
  }

  propose(id: NodeId, data: string | Uint8Array): StepResult {
    const r = this.raw(id).propose(typeof data === 'string' ? Uint8Array.from(data, (c) => c.charCodeAt(0)) : data);
    this.stabilize();
    return r;
  }

  isolate(id: NodeId): void {
    for (const other of this.nodes.keys()) {
      if (other === id) continue;
      this.blocked.add(`${id}->${other}`);
      this.blocked.add(`${other}->${id}`);
    }
  }

  cut(from: NodeId, to: NodeId): void {
    this.blocked.add(`${from}->${to}`);
  }

  heal(): void {
    this.blocked.clear();
    this.dropFilter = null;
    this.rewrite = null;
  }

  /** The leader with the highest term among running nodes, or null. */
  leader(): NodeId | null {
    let best: ClusterNode | null = null;
    for (const n of this.nodes.values()) {
      if (!n.stopped && n.raw.isLeader() && (best === null || n.raw.term > best.raw.term)) best = n;
    }
    return best === null ? null : best.id;
  }

  appliedText(id: NodeId): string[] {
    return this.node(id).applied.map((d) => String.fromCharCode(...d));
  }
}
