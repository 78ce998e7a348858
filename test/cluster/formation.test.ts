/**
 * Goal: 3- and 5-member clusters form from etcd's bootstrap flags. Properties: exactly one leader, named by every
 * member; after a burst of writes every member reaches the same raft index (no member left behind); `member list`
 * shows the names, peer URLs and client URLs the flags gave.
 * Method: start the cluster (harness/cluster.ts), read `etcdctl endpoint status --cluster -w json`, put 200 keys
 * through the members in turn (gRPC, 20 at a time), wait (with a deadline) for equal raft indexes, then compare
 * `member list -w json`. Afterwards no member may have exited on its own.
 */
import { Cluster, hexId, parseEtcdctlJson } from '../harness/cluster.js';
import { etcdctl } from '../harness/etcdctl.js';
import { bytes, kvClient, type KvApi } from '../harness/grpc.js';
import { ProcessGroup, SUBJECT } from '../harness/processes.js';
import { waitFor } from '../harness/wait.js';

const BURST_WRITES = 200;
const CONVERGE_DEADLINE_MS = 15_000;

interface EndpointStatus {
  Endpoint: string;
  Status: { header: { member_id: string; revision: number }; leader?: string; raftIndex: number; raftAppliedIndex: number; isLearner?: boolean };
}
interface MemberList {
  members: { ID: string; name?: string; peerURLs: string[]; clientURLs?: string[]; isLearner?: boolean }[];
}

const group = new ProcessGroup();
afterAll(async () => group.cleanup());

describe.each([[3], [5]])(`a %i-member ${SUBJECT} cluster`, (size: number) => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await Cluster.start(group, { kind: SUBJECT, size });
  }, 45_000);
  afterAll(async () => {
    cluster.close();
    for (const s of cluster.slots) await cluster.stop(s);
    expect(cluster.unexpectedExits).toEqual([]);
  });

  const endpointStatus = async (): Promise<EndpointStatus[]> => {
    const res = await etcdctl(cluster.endpoints()[0] ?? '', ['endpoint', 'status', '--cluster', '-w', 'json']);
    if (res.code !== 0) throw new Error(`endpoint status failed: ${res.stderr}`);
    return parseEtcdctlJson<EndpointStatus[]>(res.stdout);
  };

  test('endpoint status --cluster shows every member and exactly one leader, named by all', async () => {
    const statuses = await endpointStatus();
    expect(statuses.map((s) => s.Endpoint).sort()).toEqual(cluster.slots.map((s) => s.clientUrl).sort());
    const leaders = new Set(statuses.map((s) => s.Status.leader));
    expect(leaders.size).toBe(1);
    const leader = [...leaders][0];
    expect(statuses.filter((s) => s.Status.header.member_id === leader)).toHaveLength(1);
    expect(statuses.every((s) => s.Status.isLearner !== true)).toBe(true);
  });

  test(`after ${BURST_WRITES} puts through all members, every member has the same raft index`, async () => {
    const kvs = cluster.endpoints().map((e) => kvClient(e));
    try {
      for (let i = 0; i < BURST_WRITES; i += 20) {
        await Promise.all(Array.from({ length: 20 }, async (_, j) => (kvs[(i + j) % kvs.length] as KvApi).put({ key: bytes(`burst/${i + j}`), value: bytes(`v${i + j}`) })));
      }
    } finally {
      for (const kv of kvs) kv.close();
    }
    const converged = await waitFor(async () => {
      const statuses = await endpointStatus();
      const indexes = new Set(statuses.map((s) => s.Status.raftIndex));
      const applied = new Set(statuses.map((s) => s.Status.raftAppliedIndex));
      const revisions = new Set(statuses.map((s) => s.Status.header.revision));
      return indexes.size === 1 && applied.size === 1 && revisions.size === 1 ? statuses : undefined;
    }, CONVERGE_DEADLINE_MS, 'equal raft indexes on every member');
    // Every write is a committed entry, so the index moved by at least the burst.
    expect(converged[0]?.Status.raftIndex).toBeGreaterThanOrEqual(BURST_WRITES);
    expect(converged[0]?.Status.header.revision).toBe(BURST_WRITES + 1);
  }, 45_000);

  test('member list matches the flags: names, peer URLs, client URLs, ids', async () => {
    const res = await etcdctl(cluster.endpoints()[0] ?? '', ['member', 'list', '-w', 'json']);
    expect(res.code).toBe(0);
    const listed = parseEtcdctlJson<MemberList>(res.stdout).members
      .map((m) => ({ id: BigInt(m.ID), name: m.name, peerURLs: m.peerURLs, clientURLs: m.clientURLs, isLearner: m.isLearner ?? false }))
      .sort((a, b) => (a.name ?? '').localeCompare(b.name ?? ''));
    await cluster.statuses(); // records every member's id from its own Status
    expect(listed).toEqual(cluster.slots.map((s) => ({ id: s.id, name: s.name, peerURLs: [s.peerUrl], clientURLs: [s.clientUrl], isLearner: false })));
    // The table form shows the same ids in hex, as `member remove <id>` takes them.
    const table = await etcdctl(cluster.endpoints()[0] ?? '', ['member', 'list']);
    for (const s of cluster.slots) expect(table.stdout).toContain(`${hexId(s.id ?? 0n)}, started, ${s.name}, ${s.peerUrl}, ${s.clientUrl}, false`);
  });
});
