/**
 * Goal: the auto-compactor follows etcd 3.4's v3compactor schedule exactly — which revision it compacts and when —
 * in both modes, only while leader, and treats "already compacted" as done.
 * Method: a virtual clock whose sleep resolves when the test advances time; the revision is a counter the test
 * moves; compact() records (time, revision). Expected figures are worked out from etcd's periodic.go/revision.go.
 */
import { expect, it } from '@jest/globals';
import { CorvidError } from '../../src/errors/index.js';
import { AutoCompactor, formatDuration, REVISION_MODE_INTERVAL_MS, type AutoCompactorClock } from '../../src/server/auto-compactor.js';
import type { AutoCompaction } from '../../src/config/index.js';
import { createLogger } from '../../src/util/logger.js';

class VirtualClock implements AutoCompactorClock {
  now = 0;
  private sleepers: Array<{ until: number; resolve: () => void }> = [];
  nowMs(): number {
    return this.now;
  }
  sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      this.sleepers.push({ until: this.now + ms, resolve });
      signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
    });
  }
  /** Moves time forward in `stepMs` steps, letting the loop run (all its microtasks) after each step. */
  async advance(totalMs: number, stepMs: number): Promise<void> {
    for (let t = 0; t < totalMs; t += stepMs) {
      this.now += stepMs;
      const due = this.sleepers.filter((s) => s.until <= this.now);
      this.sleepers = this.sleepers.filter((s) => s.until > this.now);
      for (const s of due) s.resolve();
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

function harness(policy: AutoCompaction, options: { leader?: () => boolean; compactedBelow?: number; revisionAt?: (nowMs: number) => number } = {}) {
  const clock = new VirtualClock();
  const state = { rev: 1 };
  const compactions: Array<{ atMs: number; rev: number }> = [];
  const lines: string[] = [];
  const compactor = new AutoCompactor({
    policy, clock, logger: createLogger('info', (l) => lines.push(l)),
    currentRevision: () => options.revisionAt?.(clock.now) ?? state.rev,
    isLeader: options.leader ?? (() => true),
    compact: async (rev) => {
      if (rev <= (options.compactedBelow ?? 0)) throw new CorvidError('Compacted');
      compactions.push({ atMs: clock.now, rev });
    },
    isCompacted: (err) => err instanceof CorvidError && err.code === 'Compacted',
  });
  return { clock, state, compactions, lines, compactor };
}

it('periodic: waits one period, then compacts every period to the revision recorded one period before', async () => {
  // Period 10 s: revisions recorded every 1 s, 11 kept; one write per 100 ms, so the revision at t ms is 1 + t/100.
  const h = harness({ mode: 'periodic', retentionMs: 10_000 }, { revisionAt: (t) => 1 + t / 100 });
  h.compactor.start();
  await h.clock.advance(35_000, 100);
  await h.compactor.close();
  // t=10 s: revs[0] is the revision recorded at t=0 (1); then every 10 s the oldest of the 11 kept, recorded 11 s before.
  expect(h.compactions).toEqual([{ atMs: 10_000, rev: 1 }, { atMs: 20_000, rev: 91 }, { atMs: 30_000, rev: 191 }]);
  expect(h.lines.some((l) => l.includes('"msg":"completed auto periodic compaction"') && l.includes('"compact-period":"10s"'))).toBe(true);
});

it('periodic: retention above an hour samples every 6 min and compacts every hour once the retention has passed', async () => {
  const h = harness({ mode: 'periodic', retentionMs: 2 * 3_600_000 }, { revisionAt: (t) => 1 + t / 60_000 });
  h.compactor.start();
  await h.clock.advance(4 * 3_600_000 + 60_000, 60_000);
  await h.compactor.close();
  // 21 revisions kept (2 h / 6 min + 1): revs[0] is the revision recorded 2 h 6 min before.
  expect(h.compactions).toEqual([{ atMs: 7_200_000, rev: 1 }, { atMs: 10_800_000, rev: 55 }, { atMs: 14_400_000, rev: 115 }]);
});

it('periodic: a follower records revisions but does not compact; a new leader compacts at once', async () => {
  let leader = false;
  const h = harness({ mode: 'periodic', retentionMs: 1_000 }, { leader: () => leader, revisionAt: (t) => 1 + t / 100 });
  h.compactor.start();
  await h.clock.advance(5_000, 100);
  expect(h.compactions).toEqual([]);
  leader = true;
  await h.clock.advance(100, 100);
  await h.compactor.close();
  expect(h.compactions).toEqual([{ atMs: 5_100, rev: 41 }]);
});

it('revision: every 5 minutes to current − retention, skipping the same revision and revisions ≤ 0', async () => {
  const h = harness({ mode: 'revision', retentionRevisions: 10 });
  h.compactor.start();
  h.state.rev = 5;
  await h.clock.advance(REVISION_MODE_INTERVAL_MS, 1_000);
  expect(h.compactions).toEqual([]);
  h.state.rev = 25;
  await h.clock.advance(2 * REVISION_MODE_INTERVAL_MS, 1_000);
  h.state.rev = 40;
  await h.clock.advance(REVISION_MODE_INTERVAL_MS, 1_000);
  await h.compactor.close();
  expect(h.compactions).toEqual([{ atMs: 2 * REVISION_MODE_INTERVAL_MS, rev: 15 }, { atMs: 4 * REVISION_MODE_INTERVAL_MS, rev: 30 }]);
  expect(h.lines.filter((l) => l.includes('"msg":"completed auto revision compaction"'))).toHaveLength(2);
});

it('revision: an already compacted revision counts as done', async () => {
  const h = harness({ mode: 'revision', retentionRevisions: 10 }, { compactedBelow: 15 });
  h.compactor.start();
  h.state.rev = 25;
  await h.clock.advance(2 * REVISION_MODE_INTERVAL_MS, 1_000);
  await h.compactor.close();
  expect(h.compactions).toEqual([]);
  expect(h.lines.filter((l) => l.includes('"msg":"completed auto revision compaction"'))).toHaveLength(1);
});

it('off: nothing runs', async () => {
  const h = harness({ mode: 'off' });
  h.compactor.start();
  await h.clock.advance(REVISION_MODE_INTERVAL_MS, 10_000);
  await h.compactor.close();
  expect(h.compactions).toEqual([]);
});

it('formats durations as Go does', () => {
  expect([2_000, 250, 90_000, 7_200_000, 1_500].map(formatDuration)).toEqual(['2s', '250ms', '1m30s', '2h0m0s', '1.5s']);
});
