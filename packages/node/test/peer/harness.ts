/**
 * Shared by the peer transport tests: a PeerTransport on 127.0.0.1:0 whose handler records every
 * callback, a logger that keeps its lines, and a wait on a condition with a deadline (no sleeps).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServerCredentials, type Server } from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { newMessage, type Message, type MessageFields, type NodeId } from '@corvid/raft';
import { listenForPeers, PeerTransport, type PeerHandler, type SnapshotSource } from '../../src/peer/index.js';
import type { Logger } from '../../src/util/logger.js';

export const CLUSTER = 0xc0ffeen;

export interface LogLine {
  readonly level: string;
  readonly msg: string;
  readonly fields: Record<string, unknown> | undefined;
}

export function recordingLogger(lines: LogLine[]): Logger {
  const log = (level: string) => (msg: string, fields?: Record<string, unknown>) => {
    lines.push({ level, msg, fields });
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

export interface Member {
  readonly id: NodeId;
  readonly transport: PeerTransport;
  readonly registry: Registry;
  readonly snapshotDir: string;
  readonly stepped: Message[];
  readonly unreachable: NodeId[];
  readonly snapshotStatus: Array<{ id: NodeId; status: 'finish' | 'failure' }>;
  readonly snapshots: Array<{ msg: Message; dbPath: string }>;
  readonly logs: LogLine[];
  /** The bound URL, or null while not listening. */
  url: string | null;
  listen(url?: string): Promise<string>;
  stopListening(): Promise<void>;
  close(): Promise<void>;
}

const NO_SNAPSHOTS: SnapshotSource = {
  open: () => Promise.reject(new Error('this member has no snapshots to send')),
};

export interface MemberOptions {
  readonly clusterId?: bigint;
  readonly snapshots?: SnapshotSource;
  readonly snapshotDir?: string;
  /** Where callbacks go instead of the recording arrays (which then stay empty). */
  readonly handler?: PeerHandler;
}

export function member(id: NodeId, options: MemberOptions = {}): Member {
  const stepped: Message[] = [];
  const unreachable: NodeId[] = [];
  const snapshotStatus: Array<{ id: NodeId; status: 'finish' | 'failure' }> = [];
  const snapshots: Array<{ msg: Message; dbPath: string }> = [];
  const logs: LogLine[] = [];
  const registry = new Registry();
  const snapshotDir = options.snapshotDir ?? join(mkdtempSync(join(tmpdir(), 'corvid-peer-')), 'snap');
  const transport = new PeerTransport({
    memberId: id,
    clusterId: options.clusterId ?? CLUSTER,
    handler: options.handler ?? {
      step: (msg) => stepped.push(msg),
      receiveSnapshot: (msg, dbPath) => snapshots.push({ msg, dbPath }),
      reportUnreachable: (to) => unreachable.push(to),
      reportSnapshot: (to, status) => snapshotStatus.push({ id: to, status }),
    },
    snapshots: options.snapshots ?? NO_SNAPSHOTS,
    snapshotDir,
    registry,
    logger: recordingLogger(logs),
  });
  let listener: { address: string; close(): Promise<void> } | null = null;
  const m: Member = {
    id, transport, registry, snapshotDir, stepped, unreachable, snapshotStatus, snapshots, logs, url: null,
    async listen(url = 'http://127.0.0.1:0') {
      listener = await listenForPeers(url, transport);
      m.url = listener.address;
      return listener.address;
    },
    async stopListening() {
      await listener?.close();
      listener = null;
      m.url = null;
    },
    async close() {
      await transport.close();
      await m.stopListening();
    },
  };
  return m;
}

/** Members that listen and know each other. */
export async function cluster(...ids: NodeId[]): Promise<Member[]> {
  const members = ids.map((id) => member(id));
  for (const m of members) await m.listen();
  for (const m of members) for (const peer of members) if (peer !== m) m.transport.setPeer(peer.id, [peer.url as string]);
  return members;
}

export function msg(fields: MessageFields): Message {
  return newMessage(fields);
}

/** Resolves once `cond()` holds; fails with `what` after `deadlineMs`. Polls every 10 ms. */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, deadlineMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > deadlineMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The value of a metric series in `registry`, or 0 when absent. */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string>, suffix = ''): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  const series = values.find((v) => ((v as { metricName?: string }).metricName ?? name) === `${name}${suffix}`
    && Object.entries(labels).every(([k, val]) => v.labels[k] === val));
  return series?.value ?? 0;
}

/** Binds a hand-built gRPC server (a peer that misbehaves on purpose) to 127.0.0.1:0; returns the port. */
export function bindLocal(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port)));
  });
}
