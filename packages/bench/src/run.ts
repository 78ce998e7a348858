// Runs one benchmark: prefills what the workload reads, picks the generator (h2load when every request is the same,
// else the worker-thread Node generator), checks the replayed request really succeeds at the gRPC level, and runs.
import { spawnSync } from 'node:child_process';
import { rawUnaryCall } from './grpc-raw.js';
import { runH2load } from './h2load.js';
import { runNodeGenerator } from './node-generator.js';
import { findLeader } from './leader.js';
import { isFixedRequest, isStreamWorkload, type BenchOptions } from './options.js';
import { benchKey, benchValue, encodeRequest, grpcFrame, methodPath } from './requests.js';
import type { BenchResult } from './result.js';
import { startProgress } from './progress.js';
import { runLeaseKeepalive, runWatch } from './stream-workloads.js';

/** Largest key space the range workload prefills before it starts (one put per key). */
const PREFILL_KEYS_MAX = 10_000;

export function h2loadAvailable(): boolean {
  return spawnSync('h2load', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Puts a val-size value under each key a range workload will read, so reads return data as etcd's do. */
async function prefill(o: BenchOptions): Promise<void> {
  if (o.workload !== 'range') return;
  const value = benchValue(o.valSize);
  const keys = Math.min(o.keySpaceSize, PREFILL_KEYS_MAX);
  for (let i = 0; i < keys; i++) {
    const body = grpcFrame(encodeRequest({ ...o, workload: 'put' }, i, value));
    const r = await rawUnaryCall(o.endpoints[i % o.endpoints.length]!, methodPath('put'), body);
    if (r.grpcStatus !== 0) throw new Error(`prefill put of ${benchKey(i, o.keySize).toString('hex')} failed: ${r.grpcStatus} ${r.grpcMessage}`);
  }
}

export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const o = options.targetLeader ? { ...options, endpoints: [await findLeader(options.endpoints)] } : options;
  await prefill(o);
  const stopProgress = startProgress(o.durationSeconds > 0 ? o.durationSeconds + o.warmupSeconds : 0);
  try {
    return await runWith(o);
  } finally {
    stopProgress();
  }
}

async function runWith(o: BenchOptions): Promise<BenchResult> {
  if (o.workload === 'lease-keepalive') return runLeaseKeepalive(o);
  if (isStreamWorkload(o)) return runWatch(o);
  const useH2load = o.generator === 'h2load' || (o.generator === 'auto' && isFixedRequest(o) && h2loadAvailable());
  if (!useH2load) return runNodeGenerator(o);
  if (!isFixedRequest(o)) throw new Error('--generator h2load replays one request: it needs --key-space-size 1');
  const path = methodPath(o.workload);
  const frame = grpcFrame(encodeRequest(o, 0, benchValue(o.valSize)));
  // h2load counts HTTP 200 as success; a gRPC error also travels as HTTP 200, so prove the body succeeds first.
  const check = await rawUnaryCall(o.endpoints[0]!, path, frame);
  if (check.grpcStatus !== 0) throw new Error(`the request h2load would replay fails: grpc-status ${check.grpcStatus} ${check.grpcMessage}`);
  return runH2load(o, path, frame);
}
