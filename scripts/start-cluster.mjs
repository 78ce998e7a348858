#!/usr/bin/env node
// `npm start`: a local Corvid cluster on 127.0.0.1, as etcd's Procfile runs one — members infra1..infraN with client
// ports 2379, 22379, 32379 (then 42379, 52379) and peer ports 2380, 22380, 32380 (42380, 52380), data under
// ./corvid-data/<name> in the working folder (where `npm start` was typed). Every line a member prints is prefixed
// with its name. Once every member answers /health, it prints the endpoints and an etcdctl line to try. Ctrl-C
// (SIGINT) or SIGTERM stops the members (SIGTERM, then SIGKILL after a deadline) and exits 0 (npm itself then
// reports 130 for the Ctrl-C it also received).
//
// Options (flag or environment variable):
//   --members N       CORVID_MEMBERS      how many members, 1 to 5 (default 3)
//   --base-port P     CORVID_BASE_PORT    member i uses client port P+2i and peer port P+2i+1 instead of the fixed
//                                         ports (tests run it so, since the fixed ports may be busy)
//   --data-dir D      CORVID_DATA_DIR     where the members' data dirs go (default ./corvid-data)
//   --etcd                                run etcd 3.4 (/usr/bin/etcd) with the same flags, to compare
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const CORVID_MAIN = fileURLToPath(new URL('../packages/node/dist/cli/main.js', import.meta.url));
const ETCD_BIN = '/usr/bin/etcd';
const READY_DEADLINE_MS = 60_000;
const STOP_DEADLINE_MS = 10_000;
const POLL_INTERVAL_MS = 200;

const { values: flags } = parseArgs({
  options: {
    members: { type: 'string' },
    'base-port': { type: 'string' },
    'data-dir': { type: 'string' },
    etcd: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (flags.help) {
  console.log('usage: node scripts/start-cluster.mjs [--members N] [--base-port P] [--data-dir D] [--etcd]');
  process.exit(0);
}

const count = Number(flags.members ?? process.env.CORVID_MEMBERS ?? 3);
const basePort = flags['base-port'] ?? process.env.CORVID_BASE_PORT;
// npm runs scripts in the package root; INIT_CWD is the folder `npm start` was typed in.
const dataRoot = resolve(process.env.INIT_CWD ?? process.cwd(), flags['data-dir'] ?? process.env.CORVID_DATA_DIR ?? 'corvid-data');
if (!Number.isInteger(count) || count < 1 || count > 5) fail(`--members must be 1 to 5, not ${count}`);
if (basePort !== undefined && !(Number(basePort) > 0 && Number(basePort) + 2 * count < 65536)) fail(`bad --base-port ${basePort}`);
if (!flags.etcd && !existsSync(CORVID_MAIN)) fail(`Corvid is not built (${CORVID_MAIN} is missing): run "npm run build" first`);

/** Fixed ports as etcd's Procfile: infra1 2379/2380, infra2 22379/22380, ... */
function ports(i) {
  if (basePort !== undefined) return { client: Number(basePort) + 2 * i, peer: Number(basePort) + 2 * i + 1 };
  const prefix = i === 0 ? 0 : (i + 1) * 10_000;
  return { client: prefix + 2379, peer: prefix + 2380 };
}

const members = Array.from({ length: count }, (_, i) => {
  const { client, peer } = ports(i);
  return { name: `infra${i + 1}`, clientUrl: `http://127.0.0.1:${client}`, peerUrl: `http://127.0.0.1:${peer}`, child: undefined };
});
const initialCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
let stopping = false;

function fail(message) {
  console.error(`start-cluster: ${message}`);
  process.exit(2);
}

function start(member) {
  const dataDir = resolve(dataRoot, member.name);
  mkdirSync(dataRoot, { recursive: true });
  const args = [
    '--name', member.name, '--data-dir', dataDir,
    '--listen-client-urls', member.clientUrl, '--advertise-client-urls', member.clientUrl,
    '--listen-peer-urls', member.peerUrl, '--initial-advertise-peer-urls', member.peerUrl,
    '--initial-cluster', initialCluster, '--initial-cluster-token', 'corvid-local-cluster', '--initial-cluster-state', 'new',
  ];
  const [file, fullArgs] = flags.etcd ? [ETCD_BIN, [...args, '--logger', 'zap', '--log-outputs', 'stderr']] : [process.execPath, [CORVID_MAIN, ...args]];
  // Its own process group: Ctrl-C reaches only this script, which then stops the members in order.
  const child = spawn(file, fullArgs, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  member.child = child;
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => process.stdout.write(`${member.name.padEnd(6)} | ${line}\n`));
  }
  child.on('exit', (code, signal) => {
    if (stopping) return;
    console.log(`start-cluster: ${member.name} exited (code ${code}, signal ${signal})`);
    if (members.every((m) => m.child?.exitCode !== null || m.child?.signalCode !== null)) process.exit(1);
  });
  console.log(`start-cluster: ${member.name} pid ${child.pid} client ${member.clientUrl} peer ${member.peerUrl} data ${dataDir}`);
}

async function healthy(member) {
  try {
    const res = await fetch(`${member.clientUrl}/health`, { signal: AbortSignal.timeout(1_000) });
    return (await res.json()).health === 'true';
  } catch {
    return false; // not listening yet, or no leader yet
  }
}

async function waitReady() {
  const deadline = performance.now() + READY_DEADLINE_MS;
  while (!stopping && performance.now() < deadline) {
    if ((await Promise.all(members.map(healthy))).every(Boolean)) {
      const endpoints = members.map((m) => m.clientUrl.replace('http://', '')).join(',');
      console.log(`\nCorvid${flags.etcd ? ' (etcd)' : ''} cluster ready: ${count} member${count > 1 ? 's' : ''}`);
      for (const m of members) console.log(`  ${m.name}  ${m.clientUrl}`);
      console.log(`Try: ETCDCTL_API=3 etcdctl --endpoints=${endpoints} endpoint status -w table`);
      console.log('Ctrl-C stops the cluster.\n');
      return;
    }
    await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
  }
  if (!stopping) console.log(`start-cluster: not every member answered /health within ${READY_DEADLINE_MS / 1000} s; still running`);
}

async function stopMember(member) {
  const child = member.child;
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_DEADLINE_MS);
  await exited;
  clearTimeout(timer);
}

async function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`\nstart-cluster: ${signal}: stopping ${count} member${count > 1 ? 's' : ''}`);
  // One at a time: a leader stopping with its peers up hands leadership over at once (etcd's transfer on stop);
  // stopped together, each waits for peers that are going away.
  for (const m of members) await stopMember(m);
  console.log('start-cluster: stopped');
  process.exit(0);
}

process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
// If this script dies some other way, do not leave members behind.
process.on('exit', () => {
  for (const m of members) if (m.child?.exitCode === null && m.child.signalCode === null) m.child.kill('SIGKILL');
});

for (const m of members) start(m);
await waitReady();
