// Goal: Progress owns its state transitions (probe, replicate, snapshot), Inflights bounds the window, and the
// tracker computes commits and quorum activity over voters only. Method: direct unit tests on each class.
import { describe, expect, test } from '@jest/globals';
import { Inflights } from '../../src/progress/inflights.js';
import { Progress } from '../../src/progress/progress.js';
import { ProgressTracker } from '../../src/progress/tracker.js';

describe('Inflights', () => {
  test('fills up, frees acknowledged slots in order, and wraps around', () => {
    const inf = new Inflights(3);
    inf.add(5, 10);
    inf.add(7, 10);
    inf.add(9, 10);
    expect(inf.full()).toBe(true);
    inf.freeLE(7);
    expect(inf.count).toBe(1);
    inf.add(11, 10);
    inf.add(12, 10);
    expect(inf.full()).toBe(true);
    inf.freeFirstOne();
    expect(inf.count).toBe(2);
    inf.freeLE(100);
    expect(inf.count).toBe(0);
    expect(inf.bytes).toBe(0);
  });

  test('a byte budget also fills it', () => {
    const inf = new Inflights(10, 100);
    inf.add(1, 60);
    expect(inf.full()).toBe(false);
    inf.add(2, 60);
    expect(inf.full()).toBe(true);
  });

  test('adding to a full window is a broken invariant', () => {
    const inf = new Inflights(1);
    inf.add(1, 1);
    expect(() => inf.add(2, 1)).toThrow('cannot add into a full inflights');
  });
});

describe('Progress', () => {
  test('probe sends one message at a time; an ack moves it to replicate', () => {
    const pr = new Progress(5, 4, false);
    expect(pr.isPaused()).toBe(false);
    pr.sentEntries(2, 6, 10);
    expect(pr.isPaused()).toBe(true);
    expect(pr.maybeUpdate(6)).toBe(true);
    pr.becomeReplicate();
    expect(pr.next).toBe(7);
    pr.sentEntries(3, 9, 10);
    expect(pr.next).toBe(10); // optimistic
    expect(pr.inflights.count).toBe(1);
  });

  test('rejections: stale ones are ignored, fresh ones back off using the hint', () => {
    const pr = new Progress(10, 4, false);
    pr.match = 3;
    expect(pr.maybeDecrTo(5, 4)).toBe(false); // not the probe we sent (next-1 = 9)
    expect(pr.maybeDecrTo(9, 6)).toBe(true);
    expect(pr.next).toBe(7);
    pr.becomeReplicate();
    expect(pr.maybeDecrTo(2, 0)).toBe(false); // below match: stale
    pr.next = 12;
    expect(pr.maybeDecrTo(8, 0)).toBe(true);
    expect(pr.next).toBe(4); // replicate falls back to match + 1
  });

  test('snapshot state pauses until the snapshot is reported', () => {
    const pr = new Progress(2, 4, false);
    pr.becomeSnapshot(20);
    expect(pr.isPaused()).toBe(true);
    pr.becomeProbe();
    expect(pr.next).toBe(21);
    pr.becomeSnapshot(30);
    pr.snapshotFailed();
    expect(pr.state).toBe('Probe');
    expect(pr.isPaused()).toBe(true);
    pr.heartbeatAcked();
    expect(pr.isPaused()).toBe(false);
  });
});

describe('ProgressTracker', () => {
  test('learners never count for commit or quorum activity', () => {
    const t = new ProgressTracker(4);
    t.setConfig({ voters: new Set([1n, 2n, 3n]), learners: new Set([4n, 5n]) }, 1);
    t.progress.get(1n)!.match = 10;
    t.progress.get(4n)!.match = 10;
    t.progress.get(5n)!.match = 10;
    expect(t.committed()).toBe(0);
    t.progress.get(2n)!.match = 7;
    expect(t.committed()).toBe(7);
    t.visit((_, pr) => { pr.recentActive = false; });
    t.progress.get(4n)!.recentActive = true;
    t.progress.get(5n)!.recentActive = true;
    t.progress.get(1n)!.recentActive = true;
    expect(t.quorumActive()).toBe(false);
    t.progress.get(3n)!.recentActive = true;
    expect(t.quorumActive()).toBe(true);
    expect(t.confState()).toEqual({ voters: [1n, 2n, 3n], learners: [4n, 5n] });
  });
});
