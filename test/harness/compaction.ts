/**
 * The compact revision as a client sees it: the lowest revision a range at still answers (a range below the
 * compact revision fails with "required revision has been compacted"), found by bisection over [1, head].
 */
import { bytes, outcome, type KvApi } from './grpc.js';

const COMPACTED = 'etcdserver: mvcc: required revision has been compacted';

export async function compactRevision(kv: KvApi, head: number, options: { serializable?: boolean } = {}): Promise<number> {
  let lo = 1;
  let hi = head;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const res = await outcome(kv.range({ key: bytes('k'), revision: BigInt(mid), serializable: options.serializable ?? false }));
    if (res.ok) hi = mid;
    else if (res.details === COMPACTED) lo = mid + 1;
    else throw new Error(`range at ${mid}: ${res.details}`);
  }
  return lo;
}
