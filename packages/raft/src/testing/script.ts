/**
 * Golden scripts in etcd's datadriven style: a command line, `----`, then the expected output, then a blank
 * line. The runner drives a TestCluster and prints Readies and deliveries with describe.ts, so a behaviour
 * change shows up as a reviewed text diff. Commands: add-nodes, add-node, campaign, tick-election,
 * tick-heartbeat, propose, propose-conf-change, read-index, transfer-leadership, deliver-msgs, process-ready,
 * stabilize, isolate, cut, heal, compact, restart, raft-state, raft-log, status.
 */
import { describeEntries, describeMessage, describeReady } from '../describe.js';
import type { ConfChangeType, NodeId } from '../messages.js';
import type { ClusterOptions } from './cluster.js';
import { TestCluster } from './cluster.js';

export interface ScriptBlock {
  readonly command: string;
  readonly expected: string;
}

export function parseScript(text: string): ScriptBlock[] {
  const blocks: ScriptBlock[] = [];
  const lines = text.split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.trim() === '' || line.startsWith('#')) {
      i++;
      continue;
    }
    if (lines[i + 1] !== '----') throw new Error(`line ${i + 2}: expected ---- after "${line}"`);
    i += 2;
    const out: string[] = [];
    while (i < lines.length && lines[i] !== '') out.push(lines[i++]!);
    blocks.push({ command: line, expected: out.join('\n') });
  }
  return blocks;
}

export function formatScript(blocks: readonly { command: string; expected: string }[], header: string): string {
  return `${header}${blocks.map((b) => `${b.command}\n----\n${b.expected}\n`).join('\n')}`;
}

const ids = (s: string): NodeId[] => s.split(',').filter((x) => x !== '').map((x) => BigInt(x));
const bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

export class ScriptRunner {
  private cluster: TestCluster | null = null;
  private out: string[] = [];

  private get c(): TestCluster {
    if (this.cluster === null) throw new Error('add-nodes first');
    return this.cluster;
  }

  run(command: string): string {
    this.out = [];
    const [cmd, ...args] = command.trim().split(/\s+/);
    const kv = new Map(args.filter((a) => a.includes('=')).map((a) => a.split('=', 2) as [string, string]));
    const pos = args.filter((a) => !a.includes('='));
    this.exec(cmd!, pos, kv);
    return this.out.length === 0 ? 'ok' : this.out.join('\n');
  }

  private exec(cmd: string, pos: string[], kv: Map<string, string>): void {
    const id = (): NodeId => BigInt(pos[0]!);
    switch (cmd) {
      case 'add-nodes': return this.addNodes(kv);
      case 'add-node': this.c.addNode(id()); return;
      case 'campaign': this.result(this.c.raw(id()).campaign()); return;
      case 'tick-election': this.c.tick(id(), 2 * (this.c.opts.electionTicks ?? 10)); return;
      case 'tick-heartbeat': this.c.tick(id(), this.c.opts.heartbeatTicks ?? 1); return;
      case 'propose': this.result(this.c.raw(id()).propose(bytes(pos[1] ?? ''))); return;
      case 'propose-conf-change':
        this.result(this.c.raw(id()).proposeConfChange({ type: pos[1] as ConfChangeType, nodeId: BigInt(pos[2]!), context: new Uint8Array(0) }));
        return;
      case 'read-index': this.result(this.c.raw(id()).readIndex(bytes(pos[1] ?? ''))); return;
      case 'transfer-leadership': this.result(this.c.raw(BigInt(kv.get('from')!)).transferLeader(BigInt(kv.get('to')!))); return;
      case 'process-ready': for (const n of pos.length > 0 ? pos.map(BigInt) : this.sortedIds()) this.processReady(n); return;
      case 'deliver-msgs': return this.deliver(pos.length > 0 ? new Set(pos.map(BigInt)) : null, kv.get('drop') === 'true');
      case 'stabilize': return this.stabilize();
      case 'isolate': this.c.isolate(id()); return;
      case 'cut': this.c.cut(BigInt(pos[0]!), BigInt(pos[1]!)); return;
      case 'heal': this.c.heal(); return;
      case 'compact': return this.compact(id());
      case 'restart': this.c.restart(id()); return;
      case 'raft-state': return this.raftState();
      case 'raft-log': return this.raftLog(id());
      case 'status': return this.status(id());
      default: throw new Error(`unknown command ${cmd}`);
    }
  }

  private result(r: { ok: boolean; reason?: string }): void {
    if (!r.ok) this.out.push(`dropped: ${r.reason}`);
  }

  private addNodes(kv: Map<string, string>): void {
    const opts: ClusterOptions = {
      voters: ids(kv.get('voters') ?? '1,2,3'),
      learners: ids(kv.get('learners') ?? ''),
      preVote: kv.get('pre-vote') === 'true',
      checkQuorum: kv.get('check-quorum') === 'true',
      electionTicks: Number(kv.get('election') ?? 10),
      heartbeatTicks: Number(kv.get('heartbeat') ?? 1),
    };
    this.cluster = new TestCluster(opts);
    this.cluster.onReady = (nid, rd) => {
      this.out.push(`> ${nid} handling Ready`);
      for (const l of describeReady(rd).split('\n')) this.out.push(`  ${l}`);
    };
  }

  private sortedIds(): NodeId[] {
    return [...this.c.nodes.keys()].sort((a, b) => (a < b ? -1 : 1));
  }

  private processReady(id: NodeId): boolean {
    return this.c.processReady(id);
  }

  /** Delivers queued messages (to `only` if given), grouped by recipient in id order. */
  private deliver(only: Set<NodeId> | null, drop: boolean): void {
    const c = this.c;
    const take = c.inbox.filter((m) => only === null || only.has(m.to));
    c.inbox = c.inbox.filter((m) => !(only === null || only.has(m.to)));
    for (const to of this.sortedIds()) {
      const mine = take.filter((m) => m.to === to);
      if (mine.length === 0) continue;
      this.out.push(`> ${to} ${drop ? 'dropping' : 'receiving'} messages`);
      for (const m of mine) {
        const ok = !drop && c.canDeliver(m);
        this.out.push(`  ${describeMessage(m)}${ok ? '' : ' (dropped)'}`);
        if (ok) c.raw(to).step(m);
      }
    }
  }

  private stabilize(): void {
    for (let round = 0; round < 1000; round++) {
      let any = false;
      for (const id of this.sortedIds()) while (this.processReady(id)) any = true;
      if (!any && this.c.inbox.length === 0) return;
      this.deliver(null, false);
    }
    throw new Error('did not stabilize');
  }

  private compact(id: NodeId): void {
    const n = this.c.node(id);
    const applied = n.raw.status().applied;
    n.storage.createSnapshot(applied, n.confState, new Uint8Array(0));
    n.storage.compact(applied);
    this.out.push(`${id}: log from ${n.storage.firstIndex()}, snapshot at ${applied}`);
  }

  private raftState(): void {
    for (const id of this.sortedIds()) {
      const s = this.c.raw(id).status();
      this.out.push(`${id}: ${s.softState.role} term ${s.hardState.term} lead ${s.softState.lead} commit ${s.hardState.commit} applied ${s.applied}`);
    }
  }

  private raftLog(id: NodeId): void {
    const st = this.c.node(id).storage;
    const snap = st.snapshot();
    if (snap.ok && snap.value.metadata.index > 0) this.out.push(`snapshot at ${snap.value.metadata.index} term ${snap.value.metadata.term}`);
    if (st.firstIndex() > st.lastIndex()) return;
    const r = st.entries(st.firstIndex(), st.lastIndex() + 1, Number.MAX_SAFE_INTEGER);
    this.out.push(r.ok ? describeEntries(r.value) : `(${r.reason})`);
  }

  private status(id: NodeId): void {
    const s = this.c.raw(id).status();
    this.out.push(`voters [${s.config.voters.join(' ')}] learners [${s.config.learners.join(' ')}]`);
    for (const [pid, p] of s.progress) this.out.push(`${pid}: ${p.state} match=${p.match} next=${p.next}${p.isLearner ? ' learner' : ''}`);
    const readStates = this.c.node(id).readStates;
    if (readStates.length > 0) this.out.push(`read states: ${readStates.map((r) => `${String.fromCharCode(...r.requestCtx)}@${r.index}`).join(' ')}`);
  }
}
