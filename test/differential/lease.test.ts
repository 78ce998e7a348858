/**
 * Goal: leases look the same through etcdctl 3.4 and raw gRPC on etcd 3.4 and on the subject: grant (minimum
 * TTL, too large a TTL, client-chosen and existing ids), put --lease (unknown lease), timetolive with and without
 * --keys (unknown: TTL -1), list, keep-alive --once (unknown: TTL 0), revoke (keys gone at one revision; unknown),
 * with the same texts and gRPC codes.
 * Method: one script per member, etcd first (SideBySide); lease ids are masked in grant order, remaining TTLs are
 * masked in the text and checked against a range in the gRPC answers, and attached keys are sorted (etcd prints
 * them in Go map order).
 */
import { etcdctl, type EtcdctlResult } from '../harness/etcdctl.js';
import { maskResult } from '../harness/mask.js';
import { SideBySide } from '../harness/differential.js';
import { bytes, errorOf, kvClient, outcome } from '../harness/grpc.js';
import { ProcessGroup, SUBJECT, type Member } from '../harness/processes.js';
import { LeaseIdMask, leaseClient } from './lease-client.js';

/** An etcdctl step; `$1`, `$2`… in args stand for the hex id of the 1st, 2nd… lease granted by the script. */
interface Step {
  readonly args: readonly string[];
  /** The step grants a lease whose id the later steps use. */
  readonly grants?: true;
}

const STEPS: readonly Step[] = [
  { args: ['lease', 'grant', '100'], grants: true },
  { args: ['lease', 'grant', '1'], grants: true }, // raised to the minimum TTL: 2 s with the default 1 s election timeout
  { args: ['lease', 'grant', '9000000001'] },
  { args: ['lease', 'grant', '9000000000', '-w', 'json'], grants: true },
  { args: ['put', '--lease=$1', 'foo', 'bar'] },
  { args: ['put', '--lease=$1', 'zoo', 'bar'] },
  { args: ['put', '--lease=$1', 'afoo', 'bar', '-w', 'json'] },
  { args: ['put', '--lease=1234', 'x', 'y'] },
  { args: ['put', 'plain', 'v'] },
  { args: ['get', 'foo', '-w', 'json'] },
  { args: ['lease', 'timetolive', '$1'] },
  { args: ['lease', 'timetolive', '$1', '--keys'] },
  { args: ['lease', 'timetolive', '$1', '--keys', '-w', 'json'] },
  { args: ['lease', 'timetolive', '1234'] },
  { args: ['lease', 'timetolive', '1234', '-w', 'json'] },
  { args: ['lease', 'keep-alive', '--once', '$1'] },
  { args: ['lease', 'keep-alive', '--once', '1234'] },
  { args: ['del', 'zoo'] },
  { args: ['put', 'afoo', 'no-lease-now'] },
  { args: ['lease', 'timetolive', '$1', '--keys'] },
  { args: ['lease', 'revoke', '$1'] },
  { args: ['get', '', '--prefix', '-w', 'json'] },
  { args: ['lease', 'revoke', '$1'] },
  { args: ['lease', 'revoke', '1234'] },
  { args: ['lease', 'timetolive', '$1'] },
  { args: ['lease', 'revoke', '$3'] },
];

interface Result {
  readonly etcdctl: EtcdctlResult[];
  /** Raw gRPC answers, as comparable data. */
  readonly grpc: Record<string, unknown>;
}

const group = new ProcessGroup();
const sides = new SideBySide<Result>(group);

async function runEtcdctl(member: Member): Promise<EtcdctlResult[]> {
  const mask = new LeaseIdMask();
  const granted: bigint[] = [];
  const out: EtcdctlResult[] = [];
  for (const step of STEPS) {
    const args = step.args.map((a) => a.replace(/\$(\d)/, (_m, n: string) => (granted[Number(n) - 1] ?? 0n).toString(16)));
    const res = await etcdctl(member.endpoint, args);
    if (step.grants === true) {
      const json = /"ID":(\d+)/.exec(res.stdout)?.[1];
      const id = json !== undefined ? BigInt(json) : /lease ([0-9a-f]{16}) granted/.exec(res.stdout)?.[1];
      if (typeof id === 'bigint') {
        granted.push(id);
        mask.add(id);
      } else if (id !== undefined) {
        granted.push(BigInt(`0x${id}`));
        mask.add(BigInt(`0x${id}`));
      }
    }
    // Lease ids first (the generic mask would turn a JSON "ID" into <id>), then ids and ports.
    out.push(maskResult({ code: res.code, stdout: mask.apply(res.stdout), stderr: mask.apply(res.stderr) }, []));
  }
  return out;
}

async function runGrpc(member: Member): Promise<Record<string, unknown>> {
  const lease = leaseClient(member.endpoint);
  const kv = kvClient(member.endpoint);
  try {
    const r: Record<string, unknown> = {};
    const chosen = await lease.grant({ ID: 4242n, TTL: 60n });
    r['grant client-chosen id'] = { ID: chosen.ID, TTL: chosen.TTL, revision: chosen.header?.revision };
    r['grant existing id'] = errorOf(await outcome(lease.grant({ ID: 4242n, TTL: 60n })));
    r['grant negative TTL'] = ((g) => ({ ID: g.ID, TTL: g.TTL }))(await lease.grant({ ID: 4343n, TTL: -5n }));
    r['grant zero TTL'] = ((g) => ({ ID: g.ID, TTL: g.TTL }))(await lease.grant({ ID: 4444n, TTL: 0n }));
    r['grant too large'] = errorOf(await outcome(lease.grant({ ID: 1n, TTL: 9_000_000_001n })));
    r['grant negative id'] = ((g) => ({ ID: g.ID, TTL: g.TTL }))(await lease.grant({ ID: -7n, TTL: 30n }));
    r['revoke unknown'] = errorOf(await outcome(lease.revoke({ ID: 99n })));
    r['revoke zero'] = errorOf(await outcome(lease.revoke({ ID: 0n })));
    await kv.put({ key: bytes('k1'), value: bytes('v'), lease: 4242n });
    await kv.put({ key: bytes('k2'), value: bytes('v'), lease: 4242n });
    r['put unknown lease'] = errorOf(await outcome(kv.put({ key: bytes('k3'), value: bytes('v'), lease: 5n })));
    r['txn put unknown lease'] = errorOf(await outcome(kv.txn({ success: [{ request: { $case: 'requestPut', value: { key: bytes('k3'), lease: 5n } } }] })));
    const ttl = await lease.timeToLive({ ID: 4242n, keys: true });
    r['timetolive keys'] = { ID: ttl.ID, grantedTTL: ttl.grantedTTL, keys: ttl.keys.map((k) => Buffer.from(k).toString()).sort(), ttlInRange: ttl.TTL >= 58n && ttl.TTL <= 60n };
    const unknown = await lease.timeToLive({ ID: 77n, keys: true });
    r['timetolive unknown'] = { ID: unknown.ID, TTL: unknown.TTL, grantedTTL: unknown.grantedTTL, keys: unknown.keys, revision: unknown.header?.revision };
    // The etcdctl part's server-chosen ids may or may not have expired by now: only this part's ids.
    r['leases'] = (await lease.leases()).leases.map((l) => l.ID).filter((id) => id > -10_000n && id < 10_000n).sort((a, b) => (a < b ? -1 : 1));
    r['keepalive'] = (await lease.keepAlive([4242n, 77n, 4343n])).map((k) => ({ ID: k.ID, TTL: k.TTL, revision: k.header?.revision }));
    const before = (await kv.range({ key: bytes('k1') })).header?.revision ?? 0n;
    const revoked = await lease.revoke({ ID: 4242n });
    r['revoke with keys'] = { revisionStep: (revoked.header?.revision ?? 0n) - before, left: (await kv.range({ key: bytes('k'), rangeEnd: bytes('l') })).kvs.length };
    const revokedEmpty = await lease.revoke({ ID: 4343n });
    r['revoke without keys'] = { revisionStep: (revokedEmpty.header?.revision ?? 0n) - (revoked.header?.revision ?? 0n) };
    // etcd's lease metric families and the keepalive stream's grpc_server_* series exist on both.
    const metrics = await (await fetch(`${member.clientUrl}/metrics`)).text();
    r['lease metric families'] = [...metrics.matchAll(/^# TYPE (etcd_debugging_(?:server_)?lease_\w+) (\w+)$/gm)].map((m) => `${m[1] ?? ''} ${m[2] ?? ''}`).sort();
    r['keepalive stream counted'] = metrics
      .split('\n')
      .some((l) => l.startsWith('grpc_server_started_total{') && l.includes('grpc_method="LeaseKeepAlive"') && l.includes('grpc_type="bidi_stream"') && !l.endsWith(' 0'));
    return r;
  } finally {
    lease.close();
    kv.close();
  }
}

beforeAll(async () => sides.run(async (member) => ({ etcdctl: await runEtcdctl(member), grpc: await runGrpc(member) })), 180_000);

afterAll(async () => group.cleanup());

function render(result: EtcdctlResult | undefined): string {
  if (result === undefined) return 'no such step';
  return `exit code ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}

describe(`leases: etcd 3.4 vs ${SUBJECT}`, () => {
  test('both members ran the script', () => {
    expect(sides.failure('oracle')?.message).toBeUndefined();
    expect(sides.failure('subject')?.message).toBeUndefined();
  });

  test.each(STEPS.map((step, i) => [i, `etcdctl ${step.args.join(' ')}`] as const))('step %i: %s', (i) => {
    expect(render(sides.get('subject').etcdctl[i])).toEqual(render(sides.get('oracle').etcdctl[i]));
  });

  test('raw gRPC answers', () => {
    const subject = sides.get('subject').grpc;
    const oracle = sides.get('oracle').grpc;
    for (const key of Object.keys(oracle)) expect([key, subject[key]]).toEqual([key, oracle[key]]);
  });
});
