// Goal: the corruption check decides as etcd 3.4's corrupt.go: checkHashKV (the leader's periodic
// pass) flags the first inconsistent member — itself when its hash changed at an unchanged
// revision, a peer ahead of it, with a newer compaction, or with another hash under the same
// compact revision — and nothing else; CheckInitialHashKV refuses only a hash mismatch under the
// same compact revision, with etcd's error text. Method: scripted local hashes and peer answers.
import { Registry } from 'prom-client';
import type { etcdserverpb } from '@corvid/proto';
import { CorvidError } from '../../src/errors/index.js';
import type { HashKvResult } from '../../src/mvcc/index.js';
import { checkHashKV, checkInitialHashKV, CorruptionMonitor, DataInconsistencyError, type CorruptCheckDeps } from '../../src/server/corrupt-check.js';
import type { Logger } from '../../src/util/logger.js';

const LEADER = 0xaan;
const PEER_B = 0xbbn;
const PEER_C = 0xccn;

interface Logged { msg: string; fields: Record<string, unknown> | undefined }

function recordingLogger(into: Logged[]): Logger {
  const log = (msg: string, fields?: Record<string, unknown>): void => {
    into.push({ msg, fields });
  };
  return { debug: log, info: log, warn: log, error: log } as Logger;
}

type PeerAnswer = { hash: number; revision: number; compactRevision: number } | CorvidError;

function deps(local: HashKvResult[], answers: Record<string, PeerAnswer>, logged: Logged[] = []): CorruptCheckDeps & { readBarrier: () => Promise<void>; asked: number[] } {
  const asked: number[] = [];
  let call = 0;
  return {
    memberId: LEADER,
    logger: recordingLogger(logged),
    asked,
    localHash: async () => local[Math.min(call++, local.length - 1)] as HashKvResult,
    peers: () => [{ ID: LEADER, peerURLs: ['http://a'] }, { ID: PEER_B, peerURLs: ['http://b'] }, { ID: PEER_C, peerURLs: ['http://c'] }],
    fetchPeer: async (urls, revision): Promise<etcdserverpb.HashKVResponse> => {
      asked.push(revision);
      const url = urls[0] as string;
      const a = answers[url];
      if (a === undefined) throw new CorvidError('Timeout');
      if (a instanceof CorvidError) throw a;
      const id = url === 'http://b' ? PEER_B : PEER_C;
      return { header: { clusterId: 1n, memberId: id, revision: BigInt(a.revision), raftTerm: 2n }, hash: a.hash, compactRevision: BigInt(a.compactRevision) };
    },
    readBarrier: async () => undefined,
  };
}

const at = (hash: number, revision: number, compactRevision: number): HashKvResult => ({ hash, revision, compactRevision });

describe('checkHashKV (periodic, on the leader)', () => {
  it('passes when every peer has the same hash, asking each at the leader revision', async () => {
    const d = deps([at(7, 10, 3)], { 'http://b': { hash: 7, revision: 10, compactRevision: 3 }, 'http://c': { hash: 7, revision: 9, compactRevision: 3 } });
    expect(await checkHashKV(d)).toEqual({ corrupt: false, peersChecked: 2 });
    expect(d.asked).toEqual([10, 10]);
  });

  it('flags a peer whose hash differs under the same compact revision', async () => {
    const logged: Logged[] = [];
    const d = deps([at(7, 10, 3)], { 'http://b': { hash: 7, revision: 10, compactRevision: 3 }, 'http://c': { hash: 8, revision: 10, compactRevision: 3 } }, logged);
    expect(await checkHashKV(d)).toEqual({ corrupt: true, memberId: PEER_C, peersChecked: 2 });
    expect(logged.map((l) => l.msg)).toContain('same compact revision then hashes must match');
  });

  it('does not compare hashes when the peer compacted at another revision than the first one', async () => {
    // The leader compacted between its two hashes: crev 3 then 5; the peer answered with 5.
    const d = deps([at(7, 10, 3), at(9, 11, 5)], { 'http://b': { hash: 1, revision: 10, compactRevision: 5 }, 'http://c': { hash: 7, revision: 10, compactRevision: 3 } });
    expect(await checkHashKV(d)).toEqual({ corrupt: false, peersChecked: 2 });
  });

  it('flags a peer ahead of the leader, or with a newer compaction', async () => {
    expect(await checkHashKV(deps([at(7, 10, 3)], { 'http://b': { hash: 7, revision: 11, compactRevision: 3 } }))).toMatchObject({ corrupt: true, memberId: PEER_B });
    expect(await checkHashKV(deps([at(7, 10, 3)], { 'http://b': { hash: 7, revision: 10, compactRevision: 4 } }))).toMatchObject({ corrupt: true, memberId: PEER_B });
  });

  it('flags the leader itself when its hash changed at an unchanged revision', async () => {
    const d = deps([at(7, 10, 3), at(8, 10, 3)], { 'http://b': { hash: 7, revision: 10, compactRevision: 3 } });
    expect(await checkHashKV(d)).toMatchObject({ corrupt: true, memberId: LEADER });
  });

  it('skips peers that do not answer or are behind', async () => {
    const d = deps([at(7, 10, 3)], { 'http://b': new CorvidError('FutureRev') });
    expect(await checkHashKV(d)).toEqual({ corrupt: false, peersChecked: 0 });
  });
});

describe('checkInitialHashKV (a restarted member, before serving)', () => {
  it("refuses with etcd's text on a hash mismatch under the same compact revision", async () => {
    const d = deps([at(7, 10, 3)], { 'http://b': { hash: 8, revision: 12, compactRevision: 3 }, 'http://c': { hash: 7, revision: 10, compactRevision: 3 } });
    await expect(checkInitialHashKV(d)).rejects.toThrow(new DataInconsistencyError('aa found data inconsistency with peers'));
  });

  it('passes on another compact revision, a slow peer or a peer that compacted past it', async () => {
    const logged: Logged[] = [];
    const d = deps([at(7, 10, 3)], { 'http://b': { hash: 8, revision: 12, compactRevision: 4 }, 'http://c': new CorvidError('FutureRev') }, logged);
    await checkInitialHashKV(d);
    expect(logged.map((l) => l.msg)).toEqual(expect.arrayContaining(['found different compact revision values from remote peer', 'cannot fetch hash from slow remote peer', 'initial corruption checking passed; no corruption']));
    await checkInitialHashKV(deps([at(7, 10, 3)], { 'http://b': new CorvidError('Compacted') }));
  });
});

describe('CorruptionMonitor', () => {
  it('proposes the CORRUPT alarm for member 0 (etcd 3.4.23) and counts its checks', async () => {
    const registry = new Registry();
    const raised: bigint[] = [];
    const monitor = new CorruptionMonitor({
      ...deps([at(7, 10, 3)], { 'http://b': { hash: 8, revision: 10, compactRevision: 3 } }),
      intervalMs: 5, isLeader: () => true, registry,
      raiseCorrupt: async (id) => {
        raised.push(id);
      },
    });
    monitor.start();
    const deadline = Date.now() + 5000;
    while (raised.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await monitor.close();
    expect(raised.slice(0, 2)).toEqual([0n, 0n]);
    const checks = await registry.getSingleMetric('corvid_server_corruption_checks_total')?.get();
    expect(checks?.values.find((v) => v.labels['result'] === 'corrupt')?.value).toBeGreaterThanOrEqual(2);
  });

  it('close() stops a check that waits for a peer, and counts nothing for it', async () => {
    const registry = new Registry();
    let asking = false;
    const monitor = new CorruptionMonitor({
      ...deps([at(7, 10, 3)], {}), intervalMs: 5, isLeader: () => true, registry, raiseCorrupt: async () => undefined,
      // A partitioned peer: no answer until the call is cancelled.
      fetchPeer: async (_urls, _rev, signal) => new Promise((_, reject) => {
        asking = true;
        signal.addEventListener('abort', () => reject(new CorvidError('Timeout')), { once: true });
      }),
    });
    monitor.start();
    const deadline = Date.now() + 5000;
    while (!asking && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(asking).toBe(true);
    await monitor.close();
    const checks = await registry.getSingleMetric('corvid_server_corruption_checks_total')?.get();
    expect(checks?.values).toEqual([]);
  });

  it('does nothing on a follower', async () => {
    const registry = new Registry();
    let asked = 0;
    const d = deps([at(7, 10, 3)], {});
    const monitor = new CorruptionMonitor({ ...d, localHash: async () => { asked++; return at(7, 10, 3); }, intervalMs: 5, isLeader: () => false, registry, raiseCorrupt: async () => undefined });
    monitor.start();
    await new Promise((r) => setTimeout(r, 50));
    await monitor.close();
    expect(asked).toBe(0);
  });
});
