/**
 * Goal: the member's command line behaves like etcd's: bad flags fail with etcd's exit code and first line of
 * stderr, and the exact command line that starts a single-member etcd (peer flags included) starts Corvid.
 * Method: run each bad command line with both binaries (a safe data dir and port 0 come first, so a binary that
 * wrongly accepts the flag does not start on a fixed port) and compare {exit code, first stderr line}; then start
 * Corvid with etcd's peer flags and make one put. Flags etcd refuses after parsing (exit 1) print etcd's message
 * as Corvid's first line; etcd 3.4's other flags start both binaries; the ones Corvid refuses say why.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { bytes, kvClient } from '../harness/grpc.js';
import { freePort, MEMBER_KINDS, memberCommand, ProcessGroup, SUBJECT, type MemberKind } from '../harness/processes.js';

const BAD_COMMAND_LINES: readonly (readonly string[])[] = [
  ['--no-such-flag'],
  ['--max-txn-ops', 'abc'],
  ['--max-request-bytes'],
  ['--listen-client-urls', 'foo'],
  ['--listen-client-urls', 'ftp://127.0.0.1:0'],
  ['--max-concurrent-streams', '-1'],
  ['--grpc-keepalive-min-time', 'abc'],
  ['--max-snapshots', 'abc'],
  ['--backend-batch-interval', 'abc'],
  ['--pre-vote=maybe'],
  ['--proxy', 'foo'],
  ['--proxy-dial-timeout', 'abc'],
];

/** Command lines etcd parses but refuses after parsing (exit 1), printing one line Corvid prints first. */
const UNVERIFIED_COMMAND_LINES: readonly (readonly string[])[] = [
  ['--auto-compaction-mode', 'foo'],
  ['--auto-compaction-retention', 'abc'],
  ['--auto-compaction-retention', '-1'],
  ['--logger', 'foo'],
  ['--log-outputs', '/nonexistent/dir/x'],
  ['--logger', 'zap', '--log-outputs', '/nonexistent/dir/x'],
  ['--logger', 'capnslog', '--log-outputs', 'stdout,stderr'],
  ['--cipher-suites', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,FOO'],
];

/** etcd 3.4 flags Corvid accepts, each at a value other than its default. */
const ACCEPTED_FLAGS: readonly string[] = [
  '--auto-compaction-mode', 'revision', '--auto-compaction-retention', '1000', '--pre-vote', '--strict-reconfig-check=false',
  '--max-concurrent-streams', '100', '--grpc-keepalive-min-time', '1s', '--grpc-keepalive-interval', '1h', '--grpc-keepalive-timeout', '10s',
  '--bcrypt-cost', '4', '--enable-v2=false', '--enable-pprof=false', '--max-snapshots', '3', '--max-wals', '3',
  '--experimental-compaction-batch-limit', '500', '--experimental-warning-apply-duration', '200ms', '--experimental-backend-bbolt-freelist-type', 'map',
  '--backend-batch-interval', '10ms', '--backend-batch-limit', '100', '--cors', '*', '--host-whitelist', '*', '--force-new-cluster=false',
  '--initial-election-tick-advance=false', '--auto-tls=false', '--peer-auto-tls=false', '--discovery-fallback', 'exit',
  '--debug', '--log-package-levels', 'etcdmain=DEBUG', '--proxy', 'off', '--proxy-read-timeout', '10', '--experimental-peer-skip-client-san-verification',
];

/** etcd 3.4 starts with these; Corvid refuses them (exit 1) rather than start without what they ask for (docs/cluster.md). */
const REFUSED_BY_CORVID: readonly (readonly string[])[] = [
  ['--force-new-cluster'], ['--enable-v2'], ['--enable-pprof'], ['--peer-auto-tls'],
  ['--cors', 'http://a.example:8080'],
  ['--proxy', 'on'], ['--experimental-enable-v2v3', '/v2'], ['--discovery', 'https://discovery.etcd.io/x'], ['--discovery-srv', 'example.com'], ['--discovery-proxy', 'http://127.0.0.1:1'],
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

async function exitOf(kind: MemberKind, args: readonly string[]): Promise<{ code: number | string; firstLine: string; stderr: string }> {
  const command = memberCommand(kind, [...(await safeArgs(kind)), ...args]);
  const child = spawn(command.file, command.args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_DEADLINE_MS);
  const code = await new Promise<number | string>((resolve) => child.once('close', (c, signal) => resolve(signal === 'SIGKILL' ? 'kept running' : (c ?? -1))));
  clearTimeout(timer);
  return { code, firstLine: stderr.split('\n')[0] ?? '', stderr };
}

describe(`command line: etcd 3.4 vs ${SUBJECT}`, () => {
  test.each(BAD_COMMAND_LINES.map((args) => [args.join(' '), args] as const))('bad flags: %s', async (_name, args) => {
    const etcd = await exitOf('etcd', args);
    expect(etcd.code).toBe(2);
    const subject = await exitOf(SUBJECT, args);
    expect({ code: subject.code, firstLine: subject.firstLine }).toEqual({ code: etcd.code, firstLine: etcd.firstLine });
  });

  test("every flag etcd 3.4's --help lists is one Corvid knows", async () => {
    const flagsOf = async (kind: MemberKind): Promise<string[]> => {
      const command = memberCommand(kind, ['--help']);
      const child = spawn(command.file, command.args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      await new Promise((resolve) => child.once('close', resolve));
      return [...text.matchAll(/^\s+--([a-z0-9-]+)/gm)].map((m) => m[1] as string);
    };
    const etcd = await flagsOf('etcd');
    expect(etcd.length).toBeGreaterThanOrEqual(80);
    const known = new Set(await flagsOf('corvid'));
    expect(etcd.filter((f) => !known.has(f))).toEqual([]);
  });

  test.each(UNVERIFIED_COMMAND_LINES.map((args) => [args.join(' '), args] as const))('flags refused after parsing: %s', async (_name, args) => {
    const etcd = await exitOf('etcd', args);
    expect(etcd.code).toBe(1);
    // etcd logs it (capnslog: "<time> E | etcdmain: <message>"); Corvid prints the message alone.
    const message = /^\S+ \S+ [EC] \| etcdmain: (.*)$/m.exec(etcd.stderr)?.[1];
    expect(message).toBeDefined();
    const subject = await exitOf(SUBJECT, args);
    expect({ code: subject.code, firstLine: subject.firstLine }).toEqual({ code: 1, firstLine: message });
  });

  test.each(REFUSED_BY_CORVID.map((args) => [args.join(' '), args] as const))('corvid refuses what it does not do: %s', async (_name, args) => {
    if (SUBJECT === 'etcd') return;
    const corvid = await exitOf('corvid', args);
    expect(corvid.code).toBe(1);
    expect(corvid.firstLine).toMatch(/^error verifying flags, --[a-z0-9-]+=.* is not supported by Corvid \(.+\)\. See 'etcd --help'\.$/);
  });

  test.each(MEMBER_KINDS.map((kind) => [kind]))("%s starts with etcd 3.4's other flags and logs to a --log-outputs file", async (kind) => {
    const logFile = `${await group.tempDir()}/member.log`;
    const member = await group.start(kind, { extraArgs: [...ACCEPTED_FLAGS, '--logger', 'zap', '--log-outputs', `stderr,${logFile}`] });
    const kv = kvClient(member.endpoint);
    try {
      expect(Number((await kv.put({ key: bytes('k'), value: bytes('v') })).header?.revision)).toBe(2);
      const firstLine = (await readFile(logFile, 'utf8')).split('\n')[0] ?? '';
      expect(JSON.parse(firstLine)).toMatchObject({ level: expect.any(String), msg: expect.any(String) });
    } finally {
      kv.close();
      await member.stop();
    }
  }, 30_000);

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
