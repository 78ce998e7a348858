/**
 * Runs etcdctl 3.4 (API v3) against one endpoint, with optional stdin (for `txn --interactive=false`), and
 * returns what a user sees: exit code, stdout and stderr.
 */
import { spawn } from 'node:child_process';

export const ETCDCTL_BIN = '/usr/bin/etcdctl';
const COMMAND_TIMEOUT = '5s';
/** Kill etcdctl if it is still running this long after start (it has its own 5 s command timeout). */
const PROCESS_DEADLINE_MS = 20_000;

export interface EtcdctlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function etcdctl(endpoint: string, args: readonly string[], stdin?: string): Promise<EtcdctlResult> {
  const fullArgs = ['--endpoints', endpoint, `--command-timeout=${COMMAND_TIMEOUT}`, ...args];
  const child = spawn(ETCDCTL_BIN, fullArgs, {
    env: { ...process.env, ETCDCTL_API: '3' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  // etcdctl may exit before reading its stdin (most commands never do): a write after that is EPIPE, not a failure.
  child.stdin.on('error', () => undefined);
  child.stdin.end(stdin ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), PROCESS_DEADLINE_MS);
  try {
    const code = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (exitCode, signal) => resolve(exitCode ?? (signal === null ? -1 : 128)));
    });
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}
