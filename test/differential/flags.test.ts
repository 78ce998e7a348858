/**
 * Goal: the member's command line behaves like etcd's: bad flags fail with etcd's exit code and first line of
 * stderr, and the exact command line that starts a single-member etcd (peer flags included) starts Corvid.
 * Method: run each bad command line with both binaries (a safe data dir and port 0 come first, so a binary that
 * wrongly accepts the flag does not start on a fixed port) and compare {exit code, first stderr line}; then start
 * Corvid with etcd's peer flags and make one put.
 */
import { spawn } from 'node:child_process';
import { bytes, kvClient } from '../harness/grpc.js';
import { freePort, memberCommand, ProcessGroup, SUBJECT, type MemberKind } from '../harness/processes.js';

const BAD_COMMAND_LINES: readonly (readonly string[])[] = [
  ['--no-such-flag'],
  ['--max-txn-ops', 'abc'],
  ['--max-request-bytes'],
  ['--listen-client-urls', 'foo'],
  ['--listen-client-urls', 'ftp://127.0.0.1:0'],
];

/** A binary that does not exit on a bad flag is killed after this long and reported as 'kept running'. */
const EXIT_DEADLINE_MS = 5_000;

const group = new ProcessGroup();
afterAll(async () => group.cleanup());

async function safeArgs(kind: MemberKind): Promise<string[]> {
  const args = ['--data-dir', `${await group.tempDir()}/data`, '--listen-client-urls', 'http://127.0.0.1:0', '--advertise-client-urls', 'http://127.0.0.1:0'];
  if (kind === 'etcd') {
    const peer = `http://127.0.0.1:${await freePort()}`;
    args.push('--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `default=${peer}`);
  }
  return args;
}

async function exitOf(kind: MemberKind, args: readonly string[]): Promise<{ code: number | string; firstLine: string }> {
  const command = memberCommand(kind, [...(await safeArgs(kind)), ...args]);
  const child = spawn(command.file, command.args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_DEADLINE_MS);
  const code = await new Promise<number | string>((resolve) => child.once('close', (c, signal) => resolve(signal === 'SIGKILL' ? 'kept running' : (c ?? -1))));
  clearTimeout(timer);
  return { code, firstLine: stderr.split('\n')[0] ?? '' };
}

describe(`command line: etcd 3.4 vs ${SUBJECT}`, () => {
  test.each(BAD_COMMAND_LINES.map((args) => [args.join(' '), args] as const))('bad flags: %s', async (_name, args) => {
    const etcd = await exitOf('etcd', args);
    expect(etcd.code).toBe(2);
    expect(await exitOf(SUBJECT, args)).toEqual(etcd);
  });

  test(`${SUBJECT} starts with the command line that starts a single-member etcd`, async () => {
    const member = await group.start(SUBJECT, { peerFlags: true });
    const kv = kvClient(member.endpoint);
    try {
      expect(Number((await kv.put({ key: bytes('k'), value: bytes('v') })).header?.revision)).toBe(2);
    } finally {
      kv.close();
      await member.stop();
    }
  }, 30_000);
});
