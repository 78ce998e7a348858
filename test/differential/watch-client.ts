/**
 * A raw gRPC Watch stream for tests: sends WatchRequests, records every WatchResponse in arrival order, and waits
 * for a count of them on a condition with a deadline (no sleeps). `renderWatch` prints a response as stable JSON
 * (int64 as strings, bytes as text) with the member-specific header fields masked.
 */
import { credentials, Metadata, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { etcdserverpb } from '@corvid/proto';
import { waitFor } from '../harness/wait.js';

export class WatchStreamClient {
  readonly responses: etcdserverpb.WatchResponse[] = [];
  /** The status the stream ended with, once it has. */
  status: { code: number; details: string } | undefined;
  private readonly client: etcdserverpb.WatchClient;
  private readonly call: ClientDuplexStream<etcdserverpb.WatchRequest, etcdserverpb.WatchResponse>;

  constructor(endpoint: string, options: { metadata?: Record<string, string>; grpcOptions?: Record<string, number> } = {}) {
    this.client = new etcdserverpb.WatchClient(endpoint, credentials.createInsecure(), options.grpcOptions ?? {});
    const metadata = new Metadata();
    for (const [k, v] of Object.entries(options.metadata ?? {})) metadata.set(k, v);
    this.call = this.client.watch(metadata);
    this.call.on('data', (r: etcdserverpb.WatchResponse) => this.responses.push(r));
    this.call.on('error', (e: ServiceError) => {
      this.status = { code: e.code, details: e.details };
    });
    this.call.on('status', (s: { code: number; details: string }) => {
      this.status ??= { code: s.code, details: s.details };
    });
  }

  send(request: etcdserverpb.DeepPartial<etcdserverpb.WatchRequest>): void {
    this.call.write(etcdserverpb.WatchRequest.fromPartial(request));
  }

  create(value: etcdserverpb.DeepPartial<etcdserverpb.WatchCreateRequest>): void {
    this.send({ requestUnion: { $case: 'createRequest', value } });
  }

  cancel(watchId: bigint): void {
    this.send({ requestUnion: { $case: 'cancelRequest', value: { watchId } } });
  }

  progress(): void {
    this.send({ requestUnion: { $case: 'progressRequest', value: {} } });
  }

  /** Resolves once at least `count` responses have arrived in total. */
  async waitFor(count: number, deadlineMs = 10_000): Promise<void> {
    await waitFor(() => this.responses.length >= count || this.status !== undefined, deadlineMs, `${count} watch responses (have ${this.responses.length})`);
  }

  /** Pauses or resumes reading (a slow consumer: gRPC flow control then stops the server). */
  pause(): void {
    this.call.pause();
  }

  resume(): void {
    this.call.resume();
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}

/** Stable JSON (int64 as text, bytes as UTF-8); non-zero cluster/member ids and raft term masked, as kv.test.ts does. */
export function renderWatch(value: unknown): string {
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    const buffer = v as { type?: unknown; data?: number[] } | null;
    return buffer?.type === 'Buffer' && buffer.data !== undefined ? Buffer.from(buffer.data).toString('utf8') : v;
  });
  return text.replace(/"(clusterId|memberId)":"[1-9]\d*"/g, '"$1":"<id>"').replace(/"raftTerm":"[1-9]\d*"/g, '"raftTerm":"<term>"');
}
