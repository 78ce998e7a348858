#!/usr/bin/env node
/**
 * Goal: the figure behind docs/metrics.md's "cost of --metrics extensive": put throughput of one Corvid member
 * with `--metrics extensive` (tracing off) against `--metrics basic`.
 * Method: start a fresh member for each run on 127.0.0.1 (temp data dir), drive it with corvid-bench put (h2load
 * replaying one pre-encoded request, 64 streams on 8 connections) for a warm-up and a timed window, alternating
 * basic and extensive so machine noise hits both alike; print every run's throughput and the member's own CPU time
 * per put (from its /metrics: less disturbed by other processes on a shared machine), and the medians.
 * Usage: node test/observability/metrics-overhead.mjs [rounds=3] [seconds=10]   (after `npm run build`)
 * Env: CORVID_MAIN to run another build of the member.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = process.env.CORVID_MAIN ?? join(ROOT, 'packages/node/dist/cli/main.js');
const BENCH = join(ROOT, 'packages/bench/bin/corvid-bench.js');
const [rounds = 3, seconds = 10] = process.argv.slice(2).map(Number);

/** A port that was free a moment ago (bind :0, read, close). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function runOnce(level) {
  const dir = mkdtempSync(join(tmpdir(), 'corvid-overhead-'));
  const [port, peerPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${port}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const member = spawn(process.execPath, [MAIN, '--name', 'm', '--data-dir', join(dir, 'data'), '--listen-client-urls', url,
    '--advertise-client-urls', url, '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl,
    '--initial-cluster', `m=${peerUrl}`, '--metrics', level], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    await new Promise((resolve, reject) => {
      let out = '';
      member.stderr.on('data', (c) => { out += c; if (out.includes('member ready')) resolve(); });
      member.once('exit', () => reject(new Error(`member exited:\n${out.slice(-2000)}`)));
    });
    const before = await cpuAndPuts(url);
    const bench = spawnSync(process.execPath, [BENCH, 'put', '--endpoints', `127.0.0.1:${port}`, '--clients', '64', '--conns', '8',
      '--duration', String(seconds), '--warmup', '2', '--val-size', '256', '--json'], { encoding: 'utf8' });
    if (bench.status !== 0) throw new Error(`bench failed: ${bench.stderr}`);
    const result = JSON.parse(bench.stdout);
    const after = await cpuAndPuts(url);
    return { rps: result.throughputPerSecond, cpuUsPerPut: ((after.cpu - before.cpu) / (after.puts - before.puts)) * 1e6 };
  } finally {
    member.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The member's CPU seconds and applied puts, from its own /metrics: CPU per put is less noisy than throughput on a shared machine. */
async function cpuAndPuts(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { cpu: value('process_cpu_seconds_total'), puts: value('etcd_mvcc_put_total') };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = { basic: [], extensive: [] };
for (let r = 0; r < rounds; r++) {
  for (const level of r % 2 === 0 ? ['basic', 'extensive'] : ['extensive', 'basic']) {
    const run = await runOnce(level);
    results[level].push(run);
    console.log(`round ${r + 1} ${level}: ${Math.round(run.rps)} puts/s, member CPU ${run.cpuUsPerPut.toFixed(1)} µs/put`);
  }
}
for (const key of ['rps', 'cpuUsPerPut']) {
  const [b, e] = [median(results.basic.map((x) => x[key])), median(results.extensive.map((x) => x[key]))];
  console.log(`median ${key}: basic ${b.toFixed(1)}, extensive ${e.toFixed(1)}, extensive/basic = ${(e / b).toFixed(3)}`);
}
