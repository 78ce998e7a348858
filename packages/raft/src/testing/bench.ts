/// <reference types="node" />
/**
 * Micro-benchmark of the core alone: entries per second from propose to commit (applied on every member)
 * across a simulated 3-node cluster with instant, in-order delivery and in-memory storage. A round proposes
 * `batch` entries (one propose() call, or one proposeMany() call) and runs the cluster until it is quiet.
 * Run: `npm run build && node packages/raft/dist/testing/bench.js [entries] [batch] [payloadBytes]`.
 */
import { TestCluster } from './cluster.js';

function run(entries: number, batch: number, payloadBytes: number): number {
  const c = new TestCluster({ voters: [1n, 2n, 3n], maxInflightMsgs: 256 });
  c.campaign(1n);
  const leader = c.raw(1n);
  const payload = new Uint8Array(payloadBytes);
  const started = process.hrtime.bigint();
  for (let done = 0; done < entries; done += batch) {
    if (batch === 1) leader.propose(payload);
    else leader.proposeMany(new Array<Uint8Array>(batch).fill(payload));
    c.stabilize();
    // keep memory flat: the application compacts what every member applied
    for (const n of c.nodes.values()) {
      n.applied.length = 0;
      n.appliedEntries.length = 0;
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const applied = c.raw(3n).status().applied;
  if (applied < entries) throw new Error(`only ${applied} of ${entries} entries applied`);
  return entries / seconds;
}

const entries = Number(process.argv[2] ?? 200_000);
const payloadBytes = Number(process.argv[4] ?? 128);
const batches = process.argv[3] !== undefined ? [Number(process.argv[3])] : [1, 16, 256];
run(20_000, 16, payloadBytes); // warm-up
for (const batch of batches) {
  const n = batch === 1 ? Math.min(entries, 50_000) : entries;
  const rate = run(n, batch, payloadBytes);
  console.log(`3 nodes, ${payloadBytes} B entries, ${batch} proposal(s) per round: ${Math.round(rate).toLocaleString('en-US')} entries/s (${n} entries)`);
}
