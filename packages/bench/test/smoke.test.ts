// Goal: the built corvid-bench runs end to end against a real Corvid member and reports a sane result.
// Method: one member from packages/node/dist on port 0 in a temp dir; `corvid-bench put --total 2000 --json`
// (h2load when installed) and a multi-key txn-put through the worker-thread generator; every request succeeds and
// throughput is positive. The member is SIGKILLed and its dir removed afterwards. Needs `npm run build` first.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const memberMain = fileURLToPath(new URL('../../node/dist/cli/main.js', import.meta.url));
const benchMain = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

let member: ChildProcess | undefined;
let dir = '';
let endpoint = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'corvid-bench-smoke-'));
  const url = 'http://127.0.0.1:0';
  // Peer port 0 as well: the default (2380, as etcd's) would clash with other tests running at the same time.
  const child = spawn(process.execPath, [memberMain, '--data-dir', join(dir, 'data'), '--listen-client-urls', url, '--advertise-client-urls', url, '--listen-peer-urls', url],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  member = child;
  endpoint = await new Promise<string>((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error(`member not serving within 10 s: ${log}`)), 10_000);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      log = (log + d).slice(-8192);
      const m = /"msg":"serving client traffic","address":"([^"]+)"/.exec(log);
      if (m !== null) { clearTimeout(timer); resolve(m[1]!); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`member exited with ${code}: ${log}`)); });
  });
});

afterAll(() => {
  member?.kill('SIGKILL');
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

interface Result { generator: string; requests: { total: number; succeeded: number; failed: number }; throughputPerSecond: number; latencyMs: { p99: number | null } }

function bench(args: string[]): Result {
  const run = spawnSync(process.execPath, [benchMain, ...args, '--endpoints', endpoint, '--json'], { encoding: 'utf8', timeout: 20_000 });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return JSON.parse(run.stdout) as Result;
}

test('put of one key, 2000 requests: all succeed', () => {
  const r = bench(['put', '--total', '2000', '--clients', '16', '--conns', '2']);
  const h2load = spawnSync('h2load', ['--version']).status === 0;
  expect(r.generator).toBe(h2load ? 'h2load' : 'node');
  expect(r.requests).toEqual({ total: 2000, succeeded: 2000, failed: 0 });
  expect(r.throughputPerSecond).toBeGreaterThan(0);
  expect(r.latencyMs.p99).toBeGreaterThan(0);
});

test('txn-put over 100 keys with the worker-thread generator: all succeed', () => {
  const r = bench(['txn-put', '--total', '500', '--clients', '8', '--conns', '2', '--key-space-size', '100', '--generator', 'node']);
  expect(r.generator).toBe('node');
  expect(r.requests).toEqual({ total: 500, succeeded: 500, failed: 0 });
  expect(r.throughputPerSecond).toBeGreaterThan(0);
});

test('lease-expiry, 300 leases of 3 s: every key goes within 2 s of the last expiry, puts measured meanwhile', () => {
  const run = spawnSync(process.execPath, [benchMain, 'lease-expiry', '--leases', '300', '--lease-ttl', '3', '--rate', '50', '--concurrency', '16', '--conns', '2',
    '--endpoints', endpoint, '--json'], { encoding: 'utf8', timeout: 40_000 });
  expect(run.status).toBe(0);
  const r = JSON.parse(run.stdout) as { grantFailures: number; putFailures: number; goneAfterLastExpirySeconds: number; baseline: { puts: number }; duringExpiry: { puts: number } };
  expect([r.grantFailures, r.putFailures]).toEqual([0, 0]);
  // Not before the last TTL (less the poll and a grant's round trip), and soon after it.
  expect(r.goneAfterLastExpirySeconds).toBeGreaterThan(-0.5);
  expect(r.goneAfterLastExpirySeconds).toBeLessThan(2);
  expect(r.baseline.puts).toBeGreaterThan(100);
  expect(r.duringExpiry.puts).toBeGreaterThan(0);
}, 60_000);
