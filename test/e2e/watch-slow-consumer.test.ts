/**
 * Goal: a watch stream that stops reading does not make the member buffer without bound, does not hold up other
 * streams, and once it reads again gets every event, in order, with no gap.
 * Method: on etcd 3.4 (proving the test) and then the subject, one stream pauses (gRPC flow control then stops the
 * server's writes) while 40 MB of puts go through; a second stream on the same keys must keep up meanwhile. While
 * paused, the member's slow-watcher gauge must show the stalled watcher (etcd: a victim; Corvid: unsynced), and its
 * anonymous memory must grow by well under the 40 MB more than in a first, identical round of puts with nobody
 * stalled (etcd keeps its Raft log in memory, so absolute growth says nothing). Then the stream resumes and must
 * see everything.
 */
import { readFile } from 'node:fs/promises';
import { bytes, kvClient } from '../harness/grpc.js';
import { MEMBER_KINDS, ProcessGroup, type MemberKind } from '../harness/processes.js';
import { waitFor } from '../harness/wait.js';
import { WatchStreamClient } from '../differential/watch-client.js';

const PUTS = 640;
const VALUE_BYTES = 64 * 1024;
/** Extra anonymous memory allowed while the consumer is stalled: well under the PUTS × VALUE_BYTES (40 MB) written. */
const MAX_EXTRA_GROWTH_BYTES = 32 * 1024 * 1024;

const group = new ProcessGroup();
afterAll(async () => group.cleanup());

async function rssAnonBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /RssAnon:\s+(\d+) kB/.exec(status)?.[1];
  return Number(kb) * 1024;
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1] ?? NaN);
}

const revsOf = (s: WatchStreamClient): number[] => s.responses.flatMap((r) => r.events.map((e) => Number(e.kv?.modRevision)));

describe.each(MEMBER_KINDS.map((kind) => [kind]))('a slow watch consumer on %s', (kind: MemberKind) => {
  test('is parked, costs bounded memory, does not slow others, and then gets every event in order', async () => {
    const member = await group.start(kind);
    const kv = kvClient(member.endpoint);
    const big = { grpcOptions: { 'grpc.max_receive_message_length': 256 * 1024 * 1024 } };
    const slow = new WatchStreamClient(member.endpoint, big);
    const fast = new WatchStreamClient(member.endpoint, big);
    try {
      slow.create({ key: bytes('big/'), rangeEnd: bytes('big0') });
      fast.create({ key: bytes('big/'), rangeEnd: bytes('big0') });
      await slow.waitFor(1);
      await fast.waitFor(1);
      const pid = member.child.pid as number;
      const value = Buffer.alloc(VALUE_BYTES, 120);
      /** Puts PUTS values; returns how much the member's anonymous memory grew, peak during the round to the end. */
      const round = async (prefix: string): Promise<number> => {
        const before = await rssAnonBytes(pid);
        let peak = before;
        for (let i = 0; i < PUTS; i++) {
          await kv.put({ key: bytes(`${prefix}${i % 16}`), value });
          if (i % 32 === 0) peak = Math.max(peak, await rssAnonBytes(pid));
        }
        return Math.max(peak, await rssAnonBytes(pid)) - before;
      };
      const baseline = await round('base/');
      const start = Number((await kv.range({ key: bytes('x') })).header?.revision);
      slow.pause();
      const stalled = await round('big/');
      const last = start + PUTS;
      await waitFor(() => revsOf(fast).at(-1) === last, 20_000, 'the fast stream to keep up');
      expect(await metric(member.clientUrl, 'etcd_debugging_mvcc_slow_watcher_total')).toBeGreaterThanOrEqual(1);
      expect(stalled - baseline).toBeLessThan(MAX_EXTRA_GROWTH_BYTES);
      slow.resume();
      await waitFor(() => revsOf(slow).at(-1) === last, 30_000, 'the slow stream to catch up');
      const expected = Array.from({ length: PUTS }, (_, i) => start + 1 + i);
      expect(revsOf(slow)).toEqual(expected);
      expect(revsOf(fast)).toEqual(expected);
    } finally {
      slow.close();
      fast.close();
      kv.close();
      await member.stop();
    }
  }, 120_000);
});
