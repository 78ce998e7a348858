/**
 * Goal: --wal-dir keeps the member's WAL in the given directory, across restarts, as etcd 3.4 does; and Corvid does
 * not silently leave behind a WAL it already has in the data dir.
 * Method: on etcd 3.4 and Corvid, start with --wal-dir inside a temp dir, put, restart with the same flags, read the
 * value back; the WAL directory holds files and the data dir's member/ holds no WAL of its own. Corvid only: a
 * member started without --wal-dir, restarted with one, refuses to start (exit 1) and names both places.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { bytes, kvClient } from '../harness/grpc.js';
import { MEMBER_KINDS, ProcessGroup, SUBJECT, type MemberKind } from '../harness/processes.js';

const group = new ProcessGroup();
afterAll(async () => group.cleanup());

async function getValue(endpoint: string): Promise<string | undefined> {
  const kv = kvClient(endpoint);
  try {
    return (await kv.range({ key: bytes('k') })).kvs[0]?.value.toString();
  } finally {
    kv.close();
  }
}

describe.each(MEMBER_KINDS.map((kind) => [kind]))('--wal-dir on %s', (kind: MemberKind) => {
  test('the WAL lives in --wal-dir and the data survives a restart', async () => {
    const walDir = join(await group.tempDir(), 'wal');
    let member = await group.start(kind, { extraArgs: ['--wal-dir', walDir] });
    const kv = kvClient(member.endpoint);
    try {
      await kv.put({ key: bytes('k'), value: bytes('v1') });
    } finally {
      kv.close();
    }
    member = await group.restart(member);
    try {
      expect(await getValue(member.endpoint)).toBe('v1');
      expect((await readdir(walDir)).length).toBeGreaterThan(0);
      // No WAL of its own in the data dir: etcd has no member/wal there; Corvid's is the link to --wal-dir.
      const own = await lstat(join(member.dataDir, 'member', 'wal')).catch(() => undefined);
      expect(own === undefined || own.isSymbolicLink()).toBe(true);
    } finally {
      await member.stop();
    }
  }, 60_000);
});

(SUBJECT === 'corvid' ? test : test.skip)('corvid: a WAL already in the data dir is not left behind by a later --wal-dir', async () => {
  const member = await group.start('corvid');
  await member.stop();
  const walDir = join(await group.tempDir(), 'wal');
  const again = group.start('corvid', { dataDir: member.dataDir, extraArgs: ['--wal-dir', walDir] });
  await expect(again).rejects.toThrow(/this member's WAL is in .*member\/wal; stop the member and move that directory's files to/);
}, 60_000);
