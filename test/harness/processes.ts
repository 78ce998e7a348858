/**
 * Real member processes on 127.0.0.1 — the real etcd 3.4 (the oracle) and the built `corvid` command — started
 * with the same etcd flags, each in its own temp data dir, on ports picked by the OS. A `ProcessGroup` owns every
 * process and dir it creates; `cleanup()` (call it in afterAll) kills and removes them all, even after a failure.
 * Readiness is a condition with a deadline, never a sleep: etcd answers `GET /health` with {"health":"true"};
 * Corvid logs `"msg":"serving client traffic"` on stderr with the address it bound.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.js';

export type MemberKind = 'etcd' | 'corvid';
/**
 * The member under test. `CORVID_TEST_SUBJECT=etcd` runs every comparison etcd against etcd: that proves a test
 * and its masks are right (it must pass) before Corvid is pointed at it. Default: corvid.
 */
export const SUBJECT: MemberKind = process.env['CORVID_TEST_SUBJECT'] === 'etcd' ? 'etcd' : 'corvid';
/** The oracle first, then the member under test. */
export const MEMBER_KINDS: readonly MemberKind[] = ['etcd', SUBJECT];

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The built `corvid` command; `CORVID_MAIN=<path>` points the tests at another build (e.g. a snapshot). */
export const CORVID_MAIN = process.env['CORVID_MAIN'] ?? join(REPO_ROOT, 'packages/node/dist/cli/main.js');
export const ETCD_BIN = '/usr/bin/etcd';

/** The same name for both kinds, so `member list` compares equal. */
const DEFAULT_MEMBER_NAME = 'member-0';
const STDERR_BUFFER_CHARS = 256 * 1024;
const START_DEADLINE_MS = 20_000;
const STOP_DEADLINE_MS = 10_000;

/** etcd flags both members accept; anything unset is left to the member's default. */
export interface MemberOptions {
  readonly name?: string;
  /** Reuse a data dir (a restart); otherwise the group makes a fresh one. */
  readonly dataDir?: string;
  /** Client port; default: a free port for etcd, 0 (member picks) for Corvid. */
  readonly clientPort?: number;
  /** etcd's peer port; default: a free port. */
  readonly peerPort?: number;
  readonly maxTxnOps?: number;
  readonly maxRequestBytes?: number;
  readonly quotaBackendBytes?: number;
  /**
   * Pass the peer flags etcd needs (--listen-peer-urls, --initial-advertise-peer-urls, --initial-cluster), so both
   * kinds get the same command line and `member list` compares equal. Default: true.
   */
  readonly peerFlags?: boolean;
  /** `--initial-cluster`; default: this member alone (`name=peer URL`). */
  readonly initialCluster?: string;
  readonly initialClusterState?: 'new' | 'existing';
  readonly initialClusterToken?: string;
  readonly heartbeatIntervalMs?: number;
  readonly electionTimeoutMs?: number;
  readonly snapshotCount?: number;
  /** Extra environment for the member process (e.g. CORVID_EXPERIMENTAL_FAULT_INJECTION=1). */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Wait for the member to be ready before `start` resolves. Default: true. A cluster member cannot be ready alone
   * (it needs a quorum), so `cluster.ts` starts members without waiting and then waits on their status; this
   * needs a fixed `clientPort`.
   */
  readonly awaitReady?: boolean;
  /** Appended as given (e.g. a bad flag, to test a failing start). */
  readonly extraArgs?: readonly string[];
}

export interface Member {
  readonly kind: MemberKind;
  readonly name: string;
  readonly dataDir: string;
  readonly port: number;
  readonly peerPort: number;
  /** `127.0.0.1:PORT`, the form etcdctl --endpoints and grpc-js take. */
  readonly endpoint: string;
  /** `http://127.0.0.1:PORT`, for the HTTP endpoints. */
  readonly clientUrl: string;
  readonly options: MemberOptions;
  readonly child: ChildProcess;
  /** The last `lines` lines of stderr and stdout, for failure messages. */
  outputTail(lines?: number): string;
  /** SIGTERM (clean shutdown), then SIGKILL if it has not exited by the deadline; true if SIGTERM sufficed. */
  stop(): Promise<boolean>;
  /** SIGKILL: the crash. Resolves once the process has exited. */
  kill(): Promise<void>;
  hasExited(): boolean;
}

/** A port that was free a moment ago (bind :0, read, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Owns processes and temp dirs; `cleanup()` removes every one of them. */
export class ProcessGroup {
  private readonly members = new Set<Member>();
  private readonly dirs = new Set<string>();
  /**
   * Last resort when the test process exits without afterAll (a killed or crashed jest worker): SIGKILL what is
   * still running and remove the dirs, synchronously, as 'exit' handlers must be.
   */
  private readonly onExit = (): void => {
    for (const m of this.members) if (!m.hasExited()) m.child.kill('SIGKILL');
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
  };

  constructor() {
    process.once('exit', this.onExit);
  }

  async tempDir(prefix = 'corvid-test-'): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    this.dirs.add(dir);
    return dir;
  }

  async start(kind: MemberKind, options: MemberOptions = {}): Promise<Member> {
    const dataDir = options.dataDir ?? join(await this.tempDir(`${kind}-`), 'data');
    const name = options.name ?? DEFAULT_MEMBER_NAME;
    const peerPort = options.peerPort ?? (await freePort());
    const clientPort = options.clientPort ?? (kind === 'etcd' ? await freePort() : 0);
    const args = memberArgs(kind, { ...options, name, dataDir, clientPort, peerPort });
    const env = { ...process.env, ...options.env };
    const child = kind === 'etcd' ? spawnEtcd(args, env) : spawnCorvid(args, env);
    const output = captureOutput(child);
    let port: number;
    try {
      if (options.awaitReady === false) {
        if (clientPort === 0) throw new Error('awaitReady: false needs a fixed clientPort');
        port = clientPort;
      } else {
        port = await (kind === 'etcd' ? waitEtcdReady(clientPort, child) : waitCorvidReady(output, child));
      }
    } catch (err) {
      await killAndWait(child);
      throw new Error(`${kind} did not start: ${(err as Error).message}\n--- output tail ---\n${output.tail(40)}`);
    }
    const member: Member = {
      kind, name, dataDir, port, peerPort, options,
      endpoint: `127.0.0.1:${port}`,
      clientUrl: `http://127.0.0.1:${port}`,
      child,
      outputTail: (lines = 40) => output.tail(lines),
      stop: async () => stopAndWait(child),
      kill: async () => killAndWait(child),
      hasExited: () => child.exitCode !== null || child.signalCode !== null,
    };
    this.members.add(member);
    return member;
  }

  /** Starts the same member again on its data dir (etcd on its old ports, Corvid on a fresh one). */
  async restart(member: Member): Promise<Member> {
    if (!member.hasExited()) await member.stop();
    this.members.delete(member);
    const clientPort = member.kind === 'etcd' ? member.port : 0;
    return this.start(member.kind, { ...member.options, name: member.name, dataDir: member.dataDir, clientPort, peerPort: member.peerPort });
  }

  /** Kills every process this group started and removes every temp dir. Never throws for a dead process. */
  async cleanup(): Promise<void> {
    await Promise.all([...this.members].map(async (m) => killAndWait(m.child)));
    this.members.clear();
    await Promise.all([...this.dirs].map(async (d) => rm(d, { recursive: true, force: true })));
    this.dirs.clear();
    process.removeListener('exit', this.onExit);
  }
}

function memberArgs(kind: MemberKind, o: MemberOptions & { name: string; dataDir: string; clientPort: number; peerPort: number }): string[] {
  const clientUrl = `http://127.0.0.1:${o.clientPort}`;
  const args = ['--name', o.name, '--data-dir', o.dataDir, '--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl];
  if (o.peerFlags ?? true) {
    const peerUrl = `http://127.0.0.1:${o.peerPort}`;
    args.push('--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl, '--initial-cluster', o.initialCluster ?? `${o.name}=${peerUrl}`);
    if (o.initialClusterState !== undefined) args.push('--initial-cluster-state', o.initialClusterState);
    if (o.initialClusterToken !== undefined) args.push('--initial-cluster-token', o.initialClusterToken);
  }
  if (o.heartbeatIntervalMs !== undefined) args.push('--heartbeat-interval', String(o.heartbeatIntervalMs));
  if (o.electionTimeoutMs !== undefined) args.push('--election-timeout', String(o.electionTimeoutMs));
  if (o.snapshotCount !== undefined) args.push('--snapshot-count', String(o.snapshotCount));
  if (kind === 'etcd') args.push('--logger', 'zap', '--log-outputs', 'stderr');
  if (o.maxTxnOps !== undefined) args.push('--max-txn-ops', String(o.maxTxnOps));
  if (o.maxRequestBytes !== undefined) args.push('--max-request-bytes', String(o.maxRequestBytes));
  if (o.quotaBackendBytes !== undefined) args.push('--quota-backend-bytes', String(o.quotaBackendBytes));
  args.push(...(o.extraArgs ?? []));
  return args;
}

function spawnEtcd(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(ETCD_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
}

/** The command that starts a member of `kind` with `args`; throws a clear message when Corvid is not built. */
export function memberCommand(kind: MemberKind, args: readonly string[]): { file: string; args: string[] } {
  if (kind === 'etcd') return { file: ETCD_BIN, args: [...args] };
  if (!existsSync(CORVID_MAIN)) {
    throw new Error(`Corvid is not built: ${CORVID_MAIN} is missing. Run "npm run build" at the repo root first.`);
  }
  return { file: process.execPath, args: [CORVID_MAIN, ...args] };
}

function spawnCorvid(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const command = memberCommand('corvid', args);
  return spawn(command.file, command.args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: REPO_ROOT, env });
}

interface Output {
  text(): string;
  tail(lines: number): string;
}

/** Keeps the last STDERR_BUFFER_CHARS of stdout+stderr (Corvid logs JSON lines to stderr). */
function captureOutput(child: ChildProcess): Output {
  let buffer = '';
  const append = (chunk: Buffer): void => {
    buffer += chunk.toString('utf8');
    if (buffer.length > STDERR_BUFFER_CHARS) buffer = buffer.slice(buffer.length - STDERR_BUFFER_CHARS);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  child.on('exit', (code, signal) => append(Buffer.from(`\n[process exited: code=${String(code)} signal=${String(signal)}]\n`)));
  child.on('error', (err) => append(Buffer.from(`\n[spawn error: ${err.message}]\n`)));
  return {
    text: () => buffer,
    tail: (lines) => buffer.split('\n').slice(-lines).join('\n'),
  };
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function waitEtcdReady(port: number, child: ChildProcess): Promise<number> {
  await waitFor(async () => {
    if (exited(child)) return 'exited';
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    const body = (await res.json()) as { health?: string };
    return body.health === 'true' ? 'ready' : undefined;
  }, START_DEADLINE_MS, `etcd /health on port ${port}`).then((state) => {
    if (state === 'exited') throw new Error('etcd exited before it was healthy');
  });
  return port;
}

/** The port in Corvid's `{"msg":"serving client traffic","address":"127.0.0.1:PORT"}` log line, if logged yet. */
function servingPort(output: string): number | undefined {
  for (const line of output.split('\n')) {
    if (!line.includes('serving client traffic')) continue;
    try {
      const entry = JSON.parse(line) as { msg?: unknown; address?: unknown };
      const match = typeof entry.address === 'string' ? /^127\.0\.0\.1:(\d+)$/.exec(entry.address) : null;
      if (entry.msg === 'serving client traffic' && match?.[1] !== undefined) return Number(match[1]);
    } catch {
      continue; // a partial line still being written, or not JSON: look at the next one
    }
  }
  return undefined;
}

async function waitCorvidReady(output: Output, child: ChildProcess): Promise<number> {
  const found = await waitFor(() => (exited(child) ? -1 : servingPort(output.text())), START_DEADLINE_MS, 'corvid to log "serving client traffic"');
  if (found < 0) throw new Error('corvid exited before it served clients');
  return found;
}

async function waitExit(child: ChildProcess, deadlineMs: number): Promise<boolean> {
  if (exited(child)) return true;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), deadlineMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function killAndWait(child: ChildProcess): Promise<void> {
  if (exited(child)) return;
  child.kill('SIGKILL');
  await waitExit(child, STOP_DEADLINE_MS);
}

async function stopAndWait(child: ChildProcess): Promise<boolean> {
  if (exited(child)) return true;
  child.kill('SIGTERM');
  if (await waitExit(child, STOP_DEADLINE_MS)) return true;
  await killAndWait(child);
  return false;
}
