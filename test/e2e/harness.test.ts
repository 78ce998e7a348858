/**
 * Goal: the harness keeps its promises, so a red differential means a real difference: a member that cannot start
 * fails fast with the tail of its output, cleanup() leaves no process and no temp dir behind, and waitFor reports
 * what it waited for.
 * Method: start members of both kinds with a bad flag and with good flags, clean up, and look at the OS.
 */
import { existsSync } from 'node:fs';
import { MEMBER_KINDS, ProcessGroup, type MemberKind } from '../harness/processes.js';
import { waitFor } from '../harness/wait.js';

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

describe.each(MEMBER_KINDS.map((kind) => [kind]))('harness with %s', (kind: MemberKind) => {
  test('a member that cannot start fails fast, quoting its output', async () => {
    const group = new ProcessGroup();
    try {
      const started = performance.now();
      await expect(group.start(kind, { extraArgs: ['--max-txn-ops', 'abc'] })).rejects.toThrow(
        /did not start: .*exited[\s\S]*--- output tail ---[\s\S]*invalid value "abc" for flag -max-txn-ops/,
      );
      expect(performance.now() - started).toBeLessThan(10_000);
    } finally {
      await group.cleanup();
    }
  }, 30_000);

  test('cleanup() kills every member and removes every temp dir', async () => {
    const group = new ProcessGroup();
    const member = await group.start(kind);
    const dir = await group.tempDir();
    expect(alive(member.child.pid)).toBe(true);
    expect(existsSync(member.dataDir)).toBe(true);
    await group.cleanup();
    expect(alive(member.child.pid)).toBe(false);
    expect(existsSync(member.dataDir)).toBe(false);
    expect(existsSync(dir)).toBe(false);
  }, 30_000);
});

test('waitFor names what it waited for and the last error', async () => {
  await expect(waitFor(() => { throw new Error('not yet'); }, 100, 'the impossible')).rejects.toThrow(
    'timed out after 100 ms waiting for the impossible (last error: not yet)',
  );
  expect(await waitFor(() => 42, 100)).toBe(42);
});
