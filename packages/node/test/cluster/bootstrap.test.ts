// Goal: --initial-cluster is checked and turned into ids exactly as etcd 3.4 does it.
// Method: resolve hand-written configurations; compare ids with etcd's known defaults and errors
// with etcd's own start-up messages.
import { BootstrapError, formatId, resolveInitialCluster } from '../../src/cluster/index.js';

const base = { name: 'default', initialClusterToken: 'etcd-cluster', initialAdvertisePeerUrls: ['http://localhost:2380'] };

describe('resolveInitialCluster', () => {
  it("gives etcd's default member and cluster ids", () => {
    const c = resolveInitialCluster({ ...base, initialCluster: [{ name: 'default', peerUrls: ['http://localhost:2380'] }] });
    expect(formatId(c.self.id)).toBe('8e9e05c52164694d');
    expect(formatId(c.clusterId)).toBe('cdf818194e3a8c32');
  });

  it('refuses a name missing from the initial cluster', () => {
    expect(() => resolveInitialCluster({ ...base, name: 'n1', initialCluster: [{ name: 'n2', peerUrls: ['http://localhost:2380'] }] })).toThrow(
      new BootstrapError('couldn\'t find local name "n1" in the initial cluster configuration'),
    );
  });

  it('refuses peer URLs that differ from --initial-advertise-peer-urls', () => {
    expect(() => resolveInitialCluster({ ...base, initialCluster: [{ name: 'default', peerUrls: ['http://localhost:2381'] }] })).toThrow(
      '--initial-cluster has default=http://localhost:2381 but missing from --initial-advertise-peer-urls=http://localhost:2380',
    );
  });

  it('refuses a peer URL listed for two members, with etcd\'s text', () => {
    const initialCluster = [
      { name: 'default', peerUrls: ['http://localhost:2380'] },
      { name: 'b', peerUrls: ['http://localhost:2380'] },
    ];
    expect(() => resolveInitialCluster({ ...base, initialCluster })).toThrow(
      new BootstrapError('initial cluster b=http://localhost:2380,default=http://localhost:2380 has duplicate url'),
    );
  });

  it('computes the cluster id over every listed member', () => {
    const initialCluster = [
      { name: 'default', peerUrls: ['http://localhost:2380'] },
      { name: 'b', peerUrls: ['http://localhost:2480'] },
    ];
    const c = resolveInitialCluster({ ...base, initialCluster });
    expect(c.members.map((m) => m.name)).toEqual(['default', 'b']);
    expect(c.clusterId).not.toBe(resolveInitialCluster({ ...base, initialCluster: initialCluster.slice(0, 1) }).clusterId);
  });
});
