/**
 * A deterministic, seeded cluster simulator (TigerBeetle's VOPR in spirit). The seed picks the cluster size,
 * the Raft options and the fault rates; one root Prng forks named sub-streams for each kind of randomness.
 *
 * Phase 1 (safety): ticks on a virtual clock under message loss, duplication, reordering and delay,
 * (a)symmetric partitions with stability windows, crashes with torn unsynced writes and restarts, log
 * compaction, leadership transfers, ReadIndex requests and membership changes. Checkers run after every step.
 * Phase 2 (liveness): the network heals (no loss, FIFO paths) and every member restarts; a leader must be elected and a proposal
 * must commit within a tick budget.
 */
import { describeMessage } from '../describe.js';
import type { ConfChange, NodeId } from '../messages.js';
import { contextKey } from '../read-only.js';
import { MemoryStorage } from '../storage.js';
import { bootstrapStorage } from './bootstrap.js';
import { SafetyChecker } from './checkers.js';
import { Prng } from './prng.js';
import { SimNetwork } from './sim-network.js';
import type { SimNodeConfig } from './sim-node.js';
import { SimNode, encodeAppState } from './sim-node.js';
import { SimStorage } from './sim-storage.js';
import { pickParams, type SimParams } from './sim-params.js';

export interface SimOptions {
  readonly seed: number;
  /** Keep a readable trace of every event (slower); used to explain a failing seed. */
  readonly trace?: boolean;
}

export interface SimResult {
  readonly seed: number;
  readonly ok: boolean;
  readonly error: string | null;
  readonly params: SimParams;
  readonly ticks: number;
  readonly trace: readonly string[];
  readonly stats: Readonly<Record<string, number>>;
}

export class Simulator {
  private readonly root: Prng;
  readonly params: SimParams;
  private readonly nodes = new Map<NodeId, SimNode>();
  private readonly net: SimNetwork;
  private readonly checker = new SafetyChecker();
  private readonly traceLines: string[] = [];
  private readonly faults: Prng;
  private readonly workload: Prng;
  private readonly timing: Prng;
  private step = 0;
  private tickNo = 0;
  private nextId: NodeId;
  private proposals = 0;
  private reads = 0;
  private readonly stats: Record<string, number> = {
    proposals: 0, proposalsDropped: 0, crashes: 0, restarts: 0, partitions: 0, transfers: 0, confChanges: 0,
    compactions: 0, reads: 0,
  };

  constructor(private readonly opts: SimOptions) {
    this.root = new Prng(opts.seed);
    this.params = pickParams(this.root.fork('params'));
    this.faults = this.root.fork('faults');
    this.workload = this.root.fork('workload');
    this.timing = this.root.fork('timing');
    this.net = new SimNetwork(this.root.fork('network'), { ...this.params.network });
    const voters: NodeId[] = [];
    for (let i = 1; i <= this.params.nodeCount; i++) voters.push(BigInt(i));
    this.nextId = BigInt(this.params.nodeCount + 1);
    const cs = { voters, learners: [] };
    for (const id of voters) this.addNode(id, bootstrapStorage(cs, encodeAppState(1, 0)));
  }

  private trace(line: string): void {
    this.traceLines.push(`[tick ${this.tickNo} step ${this.step}] ${line}`);
  }

  private addNode(id: NodeId, durable: MemoryStorage): SimNode {
    const cfg: SimNodeConfig = this.params.raft;
    const n = new SimNode(id, new SimStorage(durable), cfg, this.root.fork(`node-${id}`), this.checker,
      this.opts.trace === true ? (l) => this.trace(l) : null);
    this.nodes.set(id, n);
    n.start();
    return n;
  }

  private upNodes(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.status === 'up');
  }

  private leader(): SimNode | null {
    let best: SimNode | null = null;
    for (const n of this.nodes.values()) {
      if (n.raw !== null && n.raw.isLeader() && (best === null || n.raw.term > best.raw!.term)) best = n;
    }
    return best;
  }

  run(): SimResult {
    let error: string | null = null;
    try {
      this.runSafetyPhase();
      this.runLivenessPhase();
    } catch (e) {
      error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
    return {
      seed: this.opts.seed, ok: error === null, error, params: this.params, ticks: this.tickNo,
      trace: this.traceLines, stats: { ...this.stats, ...this.net.stats, termsWithLeader: this.checker.termsWithLeader() },
    };
  }

  private runSafetyPhase(): void {
    let nextPartitionTick = this.params.partitionWindowTicks;
    for (let t = 0; t < this.params.safetyTicks; t++) {
      if (t >= nextPartitionTick) {
        this.changePartition();
        nextPartitionTick = t + this.faults.between(this.params.partitionWindowTicks / 2, this.params.partitionWindowTicks * 2);
      }
      this.scheduleFaults();
      this.scheduleWorkload();
      this.runTick();
    }
  }

  private runLivenessPhase(): void {
    this.trace('liveness phase: heal the network, restart every member, stop removed members');
    this.net.heal();
    // A healed network: no loss or duplication, and FIFO per path as the gRPC streams of a real member are.
    this.net.faults = { ...this.net.faults, lossRate: 0, duplicateRate: 0, reorder: false };
    for (const n of this.nodes.values()) if (n.status === 'down') this.restart(n);
    const config = this.latestConfig();
    for (const n of this.nodes.values()) {
      if (n.status === 'up' && !config.has(n.id)) n.stop();
    }
    const marker = `live-${this.opts.seed}`;
    const data = Uint8Array.from(marker, (c) => c.charCodeAt(0));
    // Bounded, but by the backlog too: with one small entry per MsgApp and a tiny in-flight window, draining a
    // long uncommitted tail takes a while (seed 402417 of a long run had ~500 entries to replicate).
    let lastIndex = 0;
    for (const n of this.nodes.values()) lastIndex = Math.max(lastIndex, n.storage.liveLastIndex());
    const backlogEntries = Math.max(0, lastIndex - this.checker.maxCommitted);
    const budgetTicks = this.params.livenessBudgetTicks + 2 * backlogEntries;
    for (let t = 0; t < budgetTicks; t++) {
      const leader = this.leader();
      if (leader !== null && t % (this.params.raft.electionTicks * 2) === 0) leader.raw!.propose(data);
      // The application keeps snapshotting: a joiner needs a snapshot taken after it was added.
      this.compactLogs(1);
      this.runTick();
      for (const n of this.nodes.values()) if (n.appliedData.has(marker)) return;
    }
    const l = this.leader();
    throw new Error(`liveness: no commit within ${budgetTicks} ticks after healing (backlog ${backlogEntries} entries) ` +
      `(leader ${l === null ? 'none' : `${l.id} term ${l.raw!.term}`}, config [${[...config].join(' ')}])`);
  }

  /** Voters and learners as of the highest applied index among members. */
  private latestConfig(): Set<NodeId> {
    let best: SimNode | null = null;
    for (const n of this.nodes.values()) if (best === null || n.appliedIndex > best.appliedIndex) best = n;
    return new Set([...(best?.confState.voters ?? []), ...(best?.confState.learners ?? [])]);
  }

  private runTick(): void {
    for (const n of this.upNodes()) n.raw!.tick();
    for (let s = 0; s < this.params.stepsPerTick; s++) {
      this.runStep();
      this.step++;
    }
    this.tickNo++;
  }

  private runStep(): void {
    for (const m of this.net.due(this.step)) {
      const n = this.nodes.get(m.to);
      if (n === undefined || n.raw === null) continue;
      if (this.opts.trace === true) this.trace(`deliver ${describeMessage(m)}`);
      n.raw.step(m);
    }
    const syncDelay = (): number => this.timing.below(this.params.maxSyncDelaySteps + 1);
    for (const n of this.nodes.values()) if (n.status === 'up') n.process(this.step, this.net, syncDelay);
    for (const n of this.nodes.values()) {
      if (n.status === 'down' && n.restartAtTick <= this.tickNo) this.restart(n);
    }
  }

  private restart(n: SimNode): void {
    this.stats.restarts!++;
    this.trace(`node ${n.id} restarts from durable storage`);
    n.start();
  }

  private changePartition(): void {
    const ids = [...this.nodes.keys()];
    const kind = this.faults.below(4);
    this.stats.partitions!++;
    if (kind === 0) this.net.heal();
    else if (kind === 1) {
      const shuffled = this.faults.shuffle(ids.slice());
      const cut = this.faults.between(1, Math.max(1, shuffled.length - 1));
      this.net.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
    } else if (kind === 2) {
      this.net.heal();
      const links = this.faults.between(1, ids.length);
      for (let i = 0; i < links; i++) this.net.cut(this.faults.pick(ids), this.faults.pick(ids));
    } else {
      const victim = this.faults.pick(ids);
      this.net.partition([[victim], ids.filter((i) => i !== victim)]);
    }
    this.trace(`network: blocked [${this.net.blockedPaths().join(' ')}]`);
  }

  private scheduleFaults(): void {
    const p = this.params;
    if (this.faults.chance(p.crashRatePerTick)) {
      const up = this.upNodes();
      if (up.length > 0) {
        const victim = this.faults.pick(up);
        victim.crash(this.faults);
        victim.restartAtTick = this.tickNo + this.faults.between(1, p.maxDownTicks);
        this.stats.crashes!++;
      }
    }
    this.compactLogs(this.params.snapshotEveryEntries);
    if (this.faults.chance(p.transferRatePerTick)) this.transferLeadership();
    if (this.faults.chance(p.confChangeRatePerTick)) this.changeMembership();
  }

  private scheduleWorkload(): void {
    const up = this.upNodes();
    if (up.length === 0) return;
    if (this.workload.chance(this.params.proposeRatePerTick)) {
      const n = this.workload.pick(up);
      const body = `p${++this.proposals}-`.padEnd(this.workload.between(4, 48), 'x');
      const r = n.raw!.propose(Uint8Array.from(body, (c) => c.charCodeAt(0)));
      this.stats.proposals!++;
      if (!r.ok) this.stats.proposalsDropped!++;
    }
    if (this.workload.chance(this.params.readRatePerTick)) {
      const n = this.workload.pick(up);
      const ctx = Uint8Array.from(`r${++this.reads}`, (c) => c.charCodeAt(0));
      n.readsIssued.set(contextKey(ctx), this.checker.maxCommitted);
      n.raw!.readIndex(ctx);
      this.stats.reads!++;
    }
  }

  /** Each member snapshots its applied state and compacts its log once it applied `everyEntries` more. */
  private compactLogs(everyEntries: number): void {
    for (const n of this.upNodes()) {
      if (n.appliedIndex - n.snapshotIndex < everyEntries) continue;
      if (n.compact(this.faults.below(this.params.compactKeepEntries + 1))) this.stats.compactions!++;
    }
  }

  private transferLeadership(): void {
    const leader = this.leader();
    if (leader === null) return;
    const target = this.faults.pick(leader.confState.voters.length > 0 ? leader.confState.voters : [leader.id]);
    this.trace(`transfer leadership ${leader.id} -> ${target}`);
    leader.raw!.transferLeader(target);
    this.stats.transfers!++;
  }

  private changeMembership(): void {
    const leader = this.leader();
    if (leader === null) return;
    const { voters, learners } = leader.confState;
    const choices: ConfChange[] = [];
    const none = new Uint8Array(0);
    if (this.nodes.size < this.params.maxNodes) choices.push({ type: 'AddLearnerNode', nodeId: this.nextId, context: none });
    for (const l of learners) choices.push({ type: 'AddNode', nodeId: l, context: none });
    if (voters.length > 3) for (const v of voters) choices.push({ type: 'RemoveNode', nodeId: v, context: none });
    for (const l of learners) choices.push({ type: 'RemoveNode', nodeId: l, context: none });
    if (choices.length === 0) return;
    const cc = this.faults.pick(choices);
    const r = leader.raw!.proposeConfChange(cc);
    this.trace(`propose ${cc.type} ${cc.nodeId} at leader ${leader.id}: ${r.ok ? 'accepted' : r.reason}`);
    if (!r.ok) return;
    this.stats.confChanges!++;
    if (cc.nodeId === this.nextId) {
      this.addNode(this.nextId, new MemoryStorage());
      this.nextId++;
    }
  }
}
