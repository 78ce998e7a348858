/**
 * Goal: `npm start` (scripts/start-cluster.mjs) gives a working local 3-member cluster and stops cleanly. Properties:
 * in a fresh working folder, it reports ready; all 3 members answer and name one leader (`etcdctl endpoint status
 * --cluster`); their output is prefixed with their names; their data is under ./corvid-data/infra1..3; on SIGINT
 * (Ctrl-C) the script exits with code 0 and leaves no member process behind.
 * Method: the script runs with --base-port on free ports (the default fixed ports 2379/22379/32379 may be busy on
 * CI); under CORVID_TEST_SUBJECT=etcd with --etcd, which proves the script and this test on etcd 3.4.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parseEtcdctlJson } from '../harness/cluster.js';
import { etcdctl } from '../harness/etcdctl.js';
import { freePort, ProcessGroup, REPO_ROOT, SUBJECT } from '../harness/processes.js';
import { waitFor } from '../harness/wait.js';

const MEMBERS = 3;
const READY_DEADLINE_MS = 45_000;
const EXIT_DEADLINE_MS = 30_000;

const group = new ProcessGroup();
afterAll(async () => group.cleanup());

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A base port P with P..P+2*MEMBERS-1 all free a moment ago. */
async function freePortRun(): Promise<number> {
  return waitFor(async () => {
    const base = await freePort();
    if (base + 2 * MEMBERS >= 65536) return undefined;
    for (let p = base; p < base + 2 * MEMBERS; p++) if (!(await portFree(p))) return undefined;
    return base;
  }, 10_000, `${2 * MEMBERS} consecutive free ports`);
}

function alive(pid: number): boolean {
  try {
    return process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH'; // EPERM: alive but not ours
  }
}

test(`npm start's launcher runs a local ${MEMBERS}-member ${SUBJECT} cluster and stops it cleanly on SIGINT`, async () => {
  const cwd = await group.tempDir('corvid-launcher-');
  const base = await freePortRun();
  const args = [join(REPO_ROOT, 'scripts/start-cluster.mjs'), '--base-port', String(base), ...(SUBJECT === 'etcd' ? ['--etcd'] : [])];
  // INIT_CWD is where npm was started (the script keeps data there); jest run by `npm test` would pass the repo's.
  const script = spawn(process.execPath, args, { cwd, env: { ...process.env, INIT_CWD: cwd }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  script.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  script.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const pids: number[] = [];
  try {
    // The ready block arrives in more than one chunk: wait for its last line, the etcdctl line to try.
    const endpoints = Array.from({ length: MEMBERS }, (_, i) => `127.0.0.1:${base + 2 * i}`);
    await waitFor(() => output.includes('cluster ready') && output.includes(`etcdctl --endpoints=${endpoints.join(',')}`), READY_DEADLINE_MS, 'the launcher to report ready');
    pids.push(...[...output.matchAll(/^start-cluster: infra\d pid (\d+) /gm)].map((m) => Number(m[1])));
    expect(pids).toHaveLength(MEMBERS);

    const res = await etcdctl(endpoints[0] ?? '', ['endpoint', 'status', '--cluster', '-w', 'json']);
    expect(res.stderr).toBe('');
    const statuses = parseEtcdctlJson<{ Endpoint: string; Status: { leader: string } }[]>(res.stdout);
    expect(statuses.map((s) => s.Endpoint).sort()).toEqual(endpoints.map((e) => `http://${e}`).sort());
    expect(new Set(statuses.map((s) => s.Status.leader)).size).toBe(1);
    expect((await etcdctl(endpoints[1] ?? '', ['put', 'launcher', 'ok'])).stdout.trim()).toBe('OK');
    for (let i = 1; i <= MEMBERS; i++) {
      expect(output).toMatch(new RegExp(`^infra${i} +\\| `, 'm'));
      expect(existsSync(join(cwd, 'corvid-data', `infra${i}`))).toBe(true);
    }

    script.kill('SIGINT');
    await waitFor(() => script.exitCode !== null || script.signalCode !== null, EXIT_DEADLINE_MS, 'the launcher to exit after SIGINT');
    expect({ code: script.exitCode, signal: script.signalCode }).toEqual({ code: 0, signal: null });
    expect(pids.filter(alive)).toEqual([]);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- launcher output tail ---\n${output.split('\n').slice(-40).join('\n')}`, { cause: err });
  } finally {
    // After a failure: SIGTERM makes the script stop its members (never kill them by pid: pids get reused).
    if (script.exitCode === null && script.signalCode === null) {
      script.kill('SIGTERM');
      await waitFor(() => script.exitCode !== null || script.signalCode !== null, EXIT_DEADLINE_MS, 'the launcher to exit').catch(() => script.kill('SIGKILL'));
    }
  }
}, 90_000);
