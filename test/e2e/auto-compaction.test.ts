/**
 * Goal: --auto-compaction-mode periodic --auto-compaction-retention 2s compacts as etcd 3.4's v3compactor: nothing
 * before the first 2 s, then, again and again, to a revision written about 2 s earlier — never to one written
 * within the last period. Run on etcd 3.4 (proving the test) and Corvid.
 * Method: a writer puts every WRITE_EVERY_MS and records (time, revision); a sampler finds the compact revision every
 * SAMPLE_EVERY_MS as the lowest revision a range at it still answers (a range below the compact revision fails with
 * "required revision has been compacted"). Then: the compact revision never goes back, never passes the revision
 * written RETENTION_MS − SLACK_MS before the sample, moved at least twice, and at the end is no older than what was
 * written three periods (plus slack) before. The member logs etcd's "completed auto periodic compaction".
 */
import { setTimeout as delay } from 'node:timers/promises';
import { compactRevision } from '../harness/compaction.js';
import { bytes, kvClient } from '../harness/grpc.js';
import { MEMBER_KINDS, ProcessGroup, type MemberKind } from '../harness/processes.js';
import { waitFor } from '../harness/wait.js';

const RETENTION_MS = 2_000;
const RUN_MS = 9_000;
const WRITE_EVERY_MS = 50;
const SAMPLE_EVERY_MS = 250;
/** Timer and scheduling slack on a shared 2-core machine (etcd samples every 200 ms here). */
const SLACK_MS = 600;

const group = new ProcessGroup();
afterAll(async () => group.cleanup());

interface Written {
  readonly atMs: number;
  readonly revision: number;
}

/** The highest revision written at or before `atMs` (1 — the empty store — before any write). */
function revisionAt(writes: readonly Written[], atMs: number): number {
  let rev = 1;
  for (const w of writes) if (w.atMs <= atMs) rev = w.revision;
  return rev;
}

describe.each(MEMBER_KINDS.map((kind) => [kind]))('periodic auto-compaction on %s', (kind: MemberKind) => {
  test('compacts to the revision of one retention ago, again and again', async () => {
    const member = await group.start(kind, { extraArgs: ['--auto-compaction-mode', 'periodic', '--auto-compaction-retention', `${RETENTION_MS / 1000}s`] });
    const startMs = performance.now();
    const kv = kvClient(member.endpoint);
    const writes: Written[] = [];
    const samples: Array<{ atMs: number; compactRev: number }> = [];
    try {
      const writer = (async () => {
        while (performance.now() - startMs < RUN_MS) {
          const res = await kv.put({ key: bytes('k'), value: bytes(String(writes.length)) });
          writes.push({ atMs: performance.now() - startMs, revision: Number(res.header?.revision) });
          await delay(WRITE_EVERY_MS);
        }
      })();
      while (performance.now() - startMs < RUN_MS) {
        const atMs = performance.now() - startMs;
        samples.push({ atMs, compactRev: await compactRevision(kv, revisionAt(writes, atMs)) });
        await delay(SAMPLE_EVERY_MS);
      }
      await writer;

      for (const [i, s] of samples.entries()) {
        if (i > 0) expect(s.compactRev).toBeGreaterThanOrEqual((samples[i - 1] as { compactRev: number }).compactRev);
        // Never a revision younger than one retention (revisionAt(<0) is 1: nothing compacted yet is fine).
        if (s.compactRev > 1) expect(s.compactRev).toBeLessThanOrEqual(revisionAt(writes, s.atMs - RETENTION_MS + SLACK_MS));
      }
      expect(new Set(samples.map((s) => s.compactRev).filter((r) => r > 1)).size).toBeGreaterThanOrEqual(2);
      const last = samples[samples.length - 1] as { atMs: number; compactRev: number };
      expect(last.compactRev).toBeGreaterThanOrEqual(revisionAt(writes, last.atMs - 3 * RETENTION_MS - SLACK_MS));
      await waitFor(() => member.outputTail(400).includes('completed auto periodic compaction'), 5_000, 'the completion log line');
    } finally {
      kv.close();
      await member.stop();
    }
  }, 60_000);
});
