// Starts the two servers bench:compare measures, one member each on 127.0.0.1 in its own temp dir: real etcd 3.4
// (/usr/bin/etcd) and a Corvid member from packages/node/dist, both with their defaults (fsync on, 100 ms
// heartbeat). Every child and dir is recorded so `stopAll` (also run on exit and on signals) removes them.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopH2loadRuns } from '../h2load.js';

export interface RunningServer {
  readonly name: string;
  /** host:port of the (first member's) client URL. */
  readonly endpoint: string;
  /** host:port of every member's client URL. */
  readonly endpoints: readonly string[];
  readonly child: ChildProcess;
}

const started: ChildProcess[] = [];
const dirs: string[] = [];
const READY_TIMEOUT_MS = 30_000;

/** Kills every child started here and any h2load run (SIGKILL: they hold only temp data) and removes every temp
 * dir. Synchronous. */
export function stopAll(): void {
  stopH2loadRuns();
  for (const c of started.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export function makeTempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/** A port the OS says is free now (a small race with other processes is accepted: only the peer port uses it). */
async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve, reject) => { srv.once('error', reject); srv.listen(0, '127.0.0.1', resolve); });
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** Polls GET /health until it answers {"health":"true"}, or fails after READY_TIMEOUT_MS. */
async function waitHealthy(name: string, endpoint: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (let attempt = 0; Date.now() < deadline && attempt < 1000; attempt++) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} before it was healthy`);
    try {
      const res = await fetch(`http://${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
      const body = (await res.json()) as { health?: string };
      if (body.health === 'true') return;
    } catch (err) {
      if (!(err instanceof Error)) throw err; // not up yet: connection refused or timeout
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} at ${endpoint} not healthy after ${READY_TIMEOUT_MS} ms`);
}

export async function startEtcd(binary = '/usr/bin/etcd'): Promise<RunningServer> {
  const dir = makeTempDir('corvid-compare-etcd-');
  const clientPort = await freePort();
  const peerPort = await freePort();
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const child = spawn(binary, ['--data-dir', join(dir, 'data'), '--listen-client-urls', client, '--advertise-client-urls', client,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `default=${peer}`,
    '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'ignore'] });
  started.push(child);
  const endpoint = `127.0.0.1:${clientPort}`;
  await waitHealthy('etcd', endpoint, child);
  return { name: 'etcd', endpoint, endpoints: [endpoint], child };
}

/** `dist`: a Corvid build directory (default packages/node/dist). */
export async function startCorvid(dist?: string): Promise<RunningServer> {
  const dir = makeTempDir('corvid-compare-corvid-');
  const main = dist === undefined ? fileURLToPath(new URL('../../../node/dist/cli/main.js', import.meta.url)) : join(dist, 'cli', 'main.js');
  const url = 'http://127.0.0.1:0';
  const child = spawn(process.execPath, [main, '--data-dir', join(dir, 'data'), '--listen-client-urls', url, '--advertise-client-urls', url],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  started.push(child);
  const endpoint = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('corvid did not log "serving client traffic" in time')), READY_TIMEOUT_MS);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      buf = (buf + d).slice(-65536);
      const m = /"msg":"serving client traffic","address":"([^"]+)"/.exec(buf);
      if (m !== null) { clearTimeout(timer); resolve(m[1]!); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`corvid exited with ${code}: ${buf.slice(-2000)}`)); });
  });
  child.stderr!.resume(); // keep draining logs so the member never blocks on a full pipe
  await waitHealthy('corvid', endpoint, child);
  return { name: 'corvid', endpoint, endpoints: [endpoint], child };
}

/**
 * A cluster of `members` (etcd 3.4 or Corvid, started with the same etcd flags), each in its own temp dir with
 * free ports, bootstrapped together (--initial-cluster, state new); resolves once every member is healthy.
 */
export async function startCluster(kind: 'etcd' | 'corvid', members: number, dist?: string): Promise<RunningServer> {
  const dir = makeTempDir(`corvid-compare-${kind}-cluster-`);
  const ports = [];
  for (let i = 0; i < members; i++) ports.push({ client: await freePort(), peer: await freePort() });
  const initialCluster = ports.map((p, i) => `m${i}=http://127.0.0.1:${p.peer}`).join(',');
  const corvidMain = dist === undefined ? fileURLToPath(new URL('../../../node/dist/cli/main.js', import.meta.url)) : join(dist, 'cli', 'main.js');
  const children = ports.map((p, i) => {
    const client = `http://127.0.0.1:${p.client}`;
    const peer = `http://127.0.0.1:${p.peer}`;
    const args = ['--name', `m${i}`, '--data-dir', join(dir, `m${i}`), '--listen-client-urls', client, '--advertise-client-urls', client,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', initialCluster,
      '--initial-cluster-token', `bench-${kind}`, '--initial-cluster-state', 'new'];
    const child = kind === 'etcd'
      ? spawn('/usr/bin/etcd', [...args, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'ignore'] })
      : spawn(process.execPath, [corvidMain, ...args], { stdio: ['ignore', 'ignore', 'ignore'] });
    started.push(child);
    return child;
  });
  const endpoints = ports.map((p) => `127.0.0.1:${p.client}`);
  await Promise.all(endpoints.map((e, i) => waitHealthy(`${kind} m${i}`, e, children[i]!)));
  return { name: kind, endpoint: endpoints[0]!, endpoints, child: children[0]! };
}
