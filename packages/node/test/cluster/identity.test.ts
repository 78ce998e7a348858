// Goal: member and cluster ids match etcd's derivation. Method: compare with the ids a real etcd
// 3.4 reports for its default flags and for a three-member --initial-cluster.
import { computeClusterId, computeMemberId, formatId } from '../../src/cluster/index.js';

describe('etcd id derivation', () => {
  it('gives the default etcd member and cluster ids', () => {
    const member = computeMemberId(['http://localhost:2380'], 'etcd-cluster');
    expect(formatId(member)).toBe('8e9e05c52164694d');
    expect(formatId(computeClusterId([member]))).toBe('cdf818194e3a8c32');
  });

  it('sorts peer URLs and member ids before hashing', () => {
    const a = computeMemberId(['http://127.0.0.1:2380', 'http://127.0.0.2:2380'], 'tok');
    const b = computeMemberId(['http://127.0.0.2:2380', 'http://127.0.0.1:2380'], 'tok');
    expect(a).toBe(b);
    expect(computeClusterId([1n, 2n, 3n])).toBe(computeClusterId([3n, 1n, 2n]));
    expect(computeMemberId(['http://127.0.0.1:2380'], 'other')).not.toBe(computeMemberId(['http://127.0.0.1:2380'], 'tok'));
  });
});
