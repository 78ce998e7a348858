/**
 * Goal: streams opened with `hasleader=true` metadata (clientv3.WithRequireLeader) end with UNAVAILABLE
 * "etcdserver: no leader" once their member has lost its leader, new ones are refused, and streams without the
 * metadata stay open.
 * Method: like the cluster suites, run against one kind (CORVID_TEST_SUBJECT=etcd proves it on etcd 3.4): a
 * 3-member cluster; on one member a hasleader stream and a plain one, both with a live watcher; SIGKILL the two
 * other members (quorum lost, so no leader), then wait for the hasleader stream's status on a deadline.
 */
import { status } from '@grpc/grpc-js';
import { withCluster } from '../harness/cluster.js';
import { bytes } from '../harness/grpc.js';
import { ProcessGroup, SUBJECT } from '../harness/processes.js';
import { waitFor } from '../harness/wait.js';
import { WatchStreamClient } from '../differential/watch-client.js';

const NO_LEADER = { code: status.UNAVAILABLE, details: 'etcdserver: no leader' };
const group = new ProcessGroup();
afterAll(async () => group.cleanup());

test(`${SUBJECT}: hasleader watch streams close with "etcdserver: no leader" when the member loses its leader`, async () => {
  await withCluster(group, { kind: SUBJECT, size: 3 }, async (cluster) => {
    const [kept, ...others] = cluster.slots;
    if (kept === undefined) throw new Error('no member');
    const requiring = new WatchStreamClient(kept.endpoint, { metadata: { hasleader: 'true' } });
    const plain = new WatchStreamClient(kept.endpoint);
    const late: WatchStreamClient[] = [];
    try {
      requiring.create({ key: bytes('k') });
      plain.create({ key: bytes('k') });
      await requiring.waitFor(1);
      await plain.waitFor(1);
      for (const slot of others) await cluster.kill(slot);
      await waitFor(() => requiring.status !== undefined, 20 * cluster.electionTimeoutMs, 'the hasleader stream to end');
      expect(requiring.status).toEqual(NO_LEADER);
      const refused = new WatchStreamClient(kept.endpoint, { metadata: { hasleader: 'true' } });
      late.push(refused);
      refused.create({ key: bytes('k') });
      await waitFor(() => refused.status !== undefined, 10 * cluster.electionTimeoutMs, 'a new hasleader stream to be refused');
      expect(refused.status).toEqual(NO_LEADER);
      expect(refused.responses).toEqual([]);
      expect(plain.status).toBeUndefined();
    } finally {
      for (const s of [requiring, plain, ...late]) s.close();
    }
  });
}, 90_000);
