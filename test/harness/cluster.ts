/**
 * Multi-member clusters of real processes on 127.0.0.1 — etcd 3.4 (the oracle) or Corvid — bootstrapped with etcd's
 * flags (`--initial-cluster m0=…,m1=…`, `--initial-cluster-state new`, a unique `--initial-cluster-token`) on ports
 * picked by the OS. A cluster is ready when every running member answers Maintenance.Status and they all name the
 * same leader, which is one of them: a condition with a deadline, never a sleep. Members are `Slot`s: a name, ports
 * and a data dir that outlive the process, so a member can be killed, restarted on the same data dir, wiped, or
 * added later with `--initial-cluster-state existing`. Partitions use Corvid's fault-injection hook (etcd has none).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { etcdserverpb } from '@corvid/proto';
import { freePort, type Member, type MemberKind, type ProcessGroup } from './processes.js';
import { waitFor } from './wait.js';

export interface ClusterOptions {
  readonly kind: MemberKind;
  readonly size: number;
  /** Default 50 ms: short, so elections take about a second and the suites stay fast. */
  readonly heartbeatIntervalMs?: number;
  /** Default 500 ms (10 heartbeats, which etcd requires to be at least 5). */
  readonly electionTimeoutMs?: number;
  readonly snapshotCount?: number;
  /** Start Corvid members with CORVID_EXPERIMENTAL_FAULT_INJECTION=1 (ignored for etcd, which has no hook). */
  readonly faultInjection?: boolean;
  readonly extraArgs?: readonly string[];
  /** How long formation may take. Default 30 s (a loaded 2-core machine). */
  readonly readyDeadlineMs?: number;
  /**
   * Runs once the slots exist and before any member starts, with the --initial-cluster and token they get: e.g.
   * `snapshot restore` into each slot's data dir, so the members start on data they did not bootstrap.
   */
  readonly prepare?: (slots: readonly Slot[], initialCluster: string, token: string) => Promise<void>;
}

/** One member's identity across restarts. `process` is the latest process started for it. */
export interface Slot {
  readonly name: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
  /** `127.0.0.1:PORT`, for etcdctl --endpoints and grpc-js. */
  readonly endpoint: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  /** The member id, known once the member has answered Status (or set from `member add`). */
  id: bigint | undefined;
  process: Member | undefined;
  /** The --initial-cluster and --initial-cluster-state it was first started with (kept for restarts). */
  initialCluster: string;
  initialClusterState: 'new' | 'existing';
}

const STATUS_DEADLINE_MS = 1_000;
const HASH_DEADLINE_MS = 5_000;
const DEFAULT_READY_DEADLINE_MS = 30_000;

type Callback<R> = (error: ServiceError | null, response: R) => void;
type UnaryMethod<Q, R> = (req: Q, meta: Metadata, opts: { deadline: Date }, cb: Callback<R>) => unknown;

async function unary<Q, R>(call: UnaryMethod<Q, R>, req: Q, deadlineMs: number): Promise<R> {
  return new Promise((resolve, reject) => {
    call(req, new Metadata(), { deadline: new Date(Date.now() + deadlineMs) }, (error, response) => {
      if (error !== null) reject(error);
      else resolve(response);
    });
  });
}

/**
 * Put and Range with a chosen per-call deadline. A member without a quorum answers only after etcd's request
 * timeout (5 s + 2 election timeouts), past grpc.ts's 5 s deadline, so the tests that read its error need longer.
 */
export function slowKv(endpoint: string, deadlineMs: number): {
  put(req: etcdserverpb.DeepPartial<etcdserverpb.PutRequest>): Promise<etcdserverpb.PutResponse>;
  range(req: etcdserverpb.DeepPartial<etcdserverpb.RangeRequest>): Promise<etcdserverpb.RangeResponse>;
  close(): void;
} {
  const c = new etcdserverpb.KVClient(endpoint, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
  return {
    put: async (req) => unary(c.put.bind(c), etcdserverpb.PutRequest.fromPartial(req), deadlineMs),
    range: async (req) => unary(c.range.bind(c), etcdserverpb.RangeRequest.fromPartial(req), deadlineMs),
    close: () => c.close(),
  };
}

/** Member ids as etcdctl prints them (lower-case hex, no padding). */
export const hexId = (id: bigint): string => id.toString(16);

/**
 * etcdctl's `-w json` prints uint64 ids as bare numbers, which JSON.parse rounds; this quotes the id fields first
 * so they arrive as exact decimal strings (`BigInt(s)` turns one back into an id).
 */
export function parseEtcdctlJson<T>(text: string): T {
  return JSON.parse(text.replace(/"(ID|cluster_id|member_id|leader)":(\d+)/g, '"$1":"$2"')) as T;
}

export class Cluster {
  readonly slots: Slot[] = [];
  /** Every port handed out, so two members never get the same one (the OS may give a closed port out again). */
  private readonly ports = new Set<number>();
  /**
   * Member processes that exited without the test stopping or killing them — a crash (an assertion, a signal from
   * outside). `withCluster` fails the test if there are any; a test that uses `Cluster.start` checks it itself.
   */
  readonly unexpectedExits: string[] = [];
  private readonly expectedExits = new WeakSet<Member>();
  private readonly maintenance = new Map<string, InstanceType<typeof etcdserverpb.MaintenanceClient>>();

  private constructor(
    private readonly group: ProcessGroup,
    readonly options: ClusterOptions,
    /** Unique per cluster, so two clusters' members can never join each other. */
    readonly token: string,
    private readonly root: string,
  ) {}

  get kind(): MemberKind {
    return this.options.kind;
  }
  get electionTimeoutMs(): number {
    return this.options.electionTimeoutMs ?? 500;
  }

  /** Starts `size` members m0..m(size-1) at once and waits until they agree on a leader. */
  static async start(group: ProcessGroup, options: ClusterOptions): Promise<Cluster> {
    const root = await group.tempDir(`${options.kind}-cluster-`);
    const cluster = new Cluster(group, options, `corvid-test-${root.split('-').pop() ?? 'x'}`, root);
    const slots = await Promise.all(Array.from({ length: options.size }, async (_, i) => cluster.newSlot(`m${i}`)));
    const initialCluster = slots.map((s) => `${s.name}=${s.peerUrl}`).join(',');
    for (const slot of slots) {
      slot.initialCluster = initialCluster;
      cluster.slots.push(slot);
    }
    try {
      await options.prepare?.(slots, initialCluster, cluster.token);
      await Promise.all(slots.map(async (s) => cluster.spawn(s)));
      await cluster.waitReady(options.readyDeadlineMs ?? DEFAULT_READY_DEADLINE_MS);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${cluster.outputTails(15)}`);
    }
    return cluster;
  }

  /** A member not yet in the cluster: fresh ports and data dir; start it with `startAdded` after `member add`. */
  async newSlot(name: string): Promise<Slot> {
    const [clientPort, peerPort] = [await this.unusedPort(), await this.unusedPort()];
    return {
      name, clientPort, peerPort,
      dataDir: join(this.root, name),
      endpoint: `127.0.0.1:${clientPort}`,
      clientUrl: `http://127.0.0.1:${clientPort}`,
      peerUrl: `http://127.0.0.1:${peerPort}`,
      id: undefined,
      process: undefined,
      initialCluster: '',
      initialClusterState: 'new',
    };
  }

  private async unusedPort(): Promise<number> {
    const port = await waitFor(async () => {
      const p = await freePort();
      return this.ports.has(p) ? undefined : p;
    }, 5_000, 'a port no member of this cluster has');
    this.ports.add(port);
    return port;
  }

  /** Starts an added member with `--initial-cluster-state existing` and the initial cluster `member add` printed. */
  async startAdded(slot: Slot, initialCluster: string): Promise<void> {
    slot.initialCluster = initialCluster;
    slot.initialClusterState = 'existing';
    if (!this.slots.includes(slot)) this.slots.push(slot);
    await this.spawn(slot);
  }

  private async spawn(slot: Slot): Promise<void> {
    const o = this.options;
    slot.process = await this.group.start(o.kind, {
      name: slot.name,
      dataDir: slot.dataDir,
      clientPort: slot.clientPort,
      peerPort: slot.peerPort,
      initialCluster: slot.initialCluster,
      initialClusterState: slot.initialClusterState,
      initialClusterToken: this.token,
      heartbeatIntervalMs: o.heartbeatIntervalMs ?? 50,
      electionTimeoutMs: this.electionTimeoutMs,
      ...(o.snapshotCount === undefined ? {} : { snapshotCount: o.snapshotCount }),
      ...(o.faultInjection === true && o.kind === 'corvid' ? { env: { CORVID_EXPERIMENTAL_FAULT_INJECTION: '1' } } : {}),
      awaitReady: false,
      extraArgs: o.extraArgs ?? [],
    });
    const member = slot.process;
    member.child.once('exit', (code, signal) => {
      if (!this.expectedExits.has(member)) this.unexpectedExits.push(`${slot.name} (pid ${String(member.child.pid)}) exited on its own: code ${String(code)}, signal ${String(signal)}`);
    });
  }

  /** Say that `slot`'s process will exit by itself (a removed member does), so it is not counted as a crash. */
  expectExit(slot: Slot): void {
    if (slot.process !== undefined) this.expectedExits.add(slot.process);
  }

  slot(name: string): Slot {
    const found = this.slots.find((s) => s.name === name);
    if (found === undefined) throw new Error(`no member named ${name}`);
    return found;
  }

  /** Members whose latest process is running. */
  running(): Slot[] {
    return this.slots.filter((s) => s.process !== undefined && !s.process.hasExited());
  }

  endpoints(slots: readonly Slot[] = this.running()): string[] {
    return slots.map((s) => s.endpoint);
  }

  /** SIGKILL: the crash. */
  async kill(slot: Slot): Promise<void> {
    this.expectExit(slot);
    await slot.process?.kill();
  }

  /** SIGTERM, then SIGKILL after a deadline. */
  async stop(slot: Slot): Promise<void> {
    this.expectExit(slot);
    await slot.process?.stop();
  }

  /** Starts the member again on its data dir with its first flags (etcd ignores --initial-* once it has data). */
  async restart(slot: Slot): Promise<void> {
    if (slot.process !== undefined && !slot.process.hasExited()) await this.stop(slot);
    this.closeClient(slot);
    await this.spawn(slot);
  }

  /** Removes the member's data dir (it must not be running). */
  async wipe(slot: Slot): Promise<void> {
    if (slot.process !== undefined && !slot.process.hasExited()) throw new Error(`${slot.name} is running`);
    await rm(slot.dataDir, { recursive: true, force: true });
  }

  private client(slot: Slot): InstanceType<typeof etcdserverpb.MaintenanceClient> {
    let client = this.maintenance.get(slot.endpoint);
    if (client === undefined) {
      client = new etcdserverpb.MaintenanceClient(slot.endpoint, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
      this.maintenance.set(slot.endpoint, client);
    }
    return client;
  }

  private closeClient(slot: Slot): void {
    this.maintenance.get(slot.endpoint)?.close();
    this.maintenance.delete(slot.endpoint);
  }

  /** Maintenance.Status of one member; records its id. */
  async status(slot: Slot, deadlineMs = STATUS_DEADLINE_MS): Promise<etcdserverpb.StatusResponse> {
    const c = this.client(slot);
    const res = await unary(c.status.bind(c), etcdserverpb.StatusRequest.fromPartial({}), deadlineMs);
    if (res.header !== undefined) slot.id = res.header.memberId;
    return res;
  }

  /** Maintenance.HashKV of one member at `revision` (0: its current revision). */
  async hashKV(slot: Slot, revision = 0): Promise<etcdserverpb.HashKVResponse> {
    const c = this.client(slot);
    return unary(c.hashKv.bind(c), etcdserverpb.HashKVRequest.fromPartial({ revision: BigInt(revision) }), HASH_DEADLINE_MS);
  }

  /** Maintenance.MoveLeader sent to `via` (etcd serves it only on the leader). */
  async moveLeader(via: Slot, targetId: bigint): Promise<etcdserverpb.MoveLeaderResponse> {
    const c = this.client(via);
    return unary(c.moveLeader.bind(c), etcdserverpb.MoveLeaderRequest.fromPartial({ targetID: targetId }), HASH_DEADLINE_MS);
  }

  /** Status of every member in `slots`, or undefined for one that did not answer. */
  async statuses(slots: readonly Slot[] = this.running()): Promise<(etcdserverpb.StatusResponse | undefined)[]> {
    return Promise.all(slots.map(async (s) => this.status(s).catch(() => undefined)));
  }

  /**
   * The leader every member of `among` (default: the running ones) names, once they all answer and agree and the
   * leader is one of them; undefined until then.
   */
  async agreedLeader(among: readonly Slot[] = this.running()): Promise<Slot | undefined> {
    return (await this.observeLeader(among)).leader;
  }

  /** The agreed leader if any, and what each member answered (for a timeout's message). */
  private async observeLeader(among: readonly Slot[]): Promise<{ leader: Slot | undefined; seen: string }> {
    const answers = await Promise.all(among.map(async (s) => this.status(s).catch((err: Error) => err)));
    const seen = among.map((s, i) => {
      const a = answers[i];
      return `${s.name}: ${a instanceof Error ? a.message : `leader ${hexId(a?.leader ?? 0n)} term ${String(a?.raftTerm)} applied ${String(a?.raftAppliedIndex)}`}`;
    }).join('; ');
    const leaders = new Set(answers.map((a) => (a instanceof Error ? 0n : (a?.leader ?? 0n))));
    const [id] = [...leaders];
    const leader = leaders.size === 1 && id !== undefined && id !== 0n ? among.find((s) => s.id === id) : undefined;
    return { leader, seen };
  }

  /** Waits until every running member answers Status and all name the same running leader. */
  async waitReady(deadlineMs = DEFAULT_READY_DEADLINE_MS, among?: readonly Slot[]): Promise<Slot> {
    return waitFor(async () => {
      const { leader, seen } = await this.observeLeader(among ?? this.running());
      if (leader === undefined) throw new Error(`last seen: ${seen}`);
      return leader;
    }, deadlineMs, `${this.kind} members ${this.endpoints(among).join(' ')} to agree on a leader`);
  }

  /** The current leader (waits for agreement). */
  async leader(deadlineMs = DEFAULT_READY_DEADLINE_MS): Promise<Slot> {
    return this.waitReady(deadlineMs);
  }

  /**
   * Waits until every member of `slots` has applied the same raft index and serves the same revision, then checks
   * HashKV at that revision on each; returns the revision and the hashes (equal when converged).
   */
  async waitConverged(deadlineMs: number, slots: readonly Slot[] = this.running()): Promise<{ revision: number; appliedIndex: bigint; hashes: number[] }> {
    const { revision, appliedIndex } = await waitFor(async () => {
      const statuses = await this.statuses(slots);
      const revisions = new Set(statuses.map((s) => s?.header?.revision));
      const applied = new Set(statuses.map((s) => s?.raftAppliedIndex));
      const [rev] = [...revisions];
      const [idx] = [...applied];
      if (statuses.includes(undefined) || revisions.size !== 1 || applied.size !== 1 || rev === undefined || idx === undefined) return undefined;
      return { revision: Number(rev), appliedIndex: idx };
    }, deadlineMs, `${this.endpoints(slots).join(' ')} to reach the same applied index and revision`);
    const hashes = await Promise.all(slots.map(async (s) => (await this.hashKV(s, revision)).hash));
    return { revision, appliedIndex, hashes };
  }

  /**
   * Corvid only: `member` drops every peer message to and from `peers` (`[]` heals). Needs `faultInjection`.
   * Answers the member's `{"isolate":[...]}`.
   */
  async isolate(member: Slot, peers: readonly Slot[]): Promise<string[]> {
    if (this.kind !== 'corvid') throw new Error('etcd has no fault-injection hook: partitions run on Corvid only');
    const ids = await Promise.all(peers.map(async (p) => hexId(p.id ?? (await this.status(p)).header?.memberId ?? 0n)));
    const res = await fetch(`${member.clientUrl}/corvid/faults/peers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ isolate: ids }),
    });
    const body = await res.text();
    if (res.status !== 200) throw new Error(`POST /corvid/faults/peers on ${member.name}: ${res.status} ${body}`);
    return (JSON.parse(body) as { isolate: string[] }).isolate;
  }

  /** Cuts `minority` off from every other running member, both ways. */
  async partition(minority: readonly Slot[]): Promise<void> {
    const majority = this.running().filter((s) => !minority.includes(s));
    for (const m of minority) await this.isolate(m, majority);
    for (const m of majority) await this.isolate(m, minority);
  }

  /** Heals every injected partition on the running members. */
  async heal(): Promise<void> {
    for (const m of this.running()) await this.isolate(m, []);
  }

  /** Every member's output tail, for failure messages and reports. */
  outputTails(lines = 20): string {
    const exits = this.unexpectedExits.length > 0 ? `--- members that exited on their own ---\n${this.unexpectedExits.join('\n')}\n` : '';
    return exits + this.slots.map((s) => `--- ${s.name} (${s.endpoint}) ---\n${s.process?.outputTail(lines) ?? '(never started)'}`).join('\n');
  }

  /** Closes the gRPC clients; the processes and dirs belong to the group (`group.cleanup()`). */
  close(): void {
    for (const c of this.maintenance.values()) c.close();
    this.maintenance.clear();
  }
}

/**
 * Starts a cluster, runs `body` on it (within `deadlineMs`, if given), and closes its clients; the test fails if a
 * member exited on its own, and a failure gets every member's output tail appended, so a red test says what the
 * members were doing. The processes stay with the group until `group.cleanup()`.
 */
export async function withCluster<T>(group: ProcessGroup, options: ClusterOptions, body: (cluster: Cluster) => Promise<T>, deadlineMs?: number): Promise<T> {
  const cluster = await Cluster.start(group, options);
  let timer: NodeJS.Timeout | undefined;
  try {
    // A deadline shorter than jest's timeout, so a stuck step still fails here, with the members' output.
    const expired = new Promise<never>((_, reject) => {
      if (deadlineMs !== undefined) timer = setTimeout(() => reject(new Error(`the test body did not finish within ${deadlineMs} ms`)), deadlineMs);
    });
    const result = await Promise.race([body(cluster), expired]);
    if (cluster.unexpectedExits.length > 0) throw new Error(`members exited on their own:\n${cluster.unexpectedExits.join('\n')}`);
    return result;
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${cluster.outputTails(10)}`, { cause: err });
  } finally {
    clearTimeout(timer);
    cluster.close();
  }
}
