/**
 * Goal: a MsgSnap travels with its backend file: the receiver gets the file intact (a few MiB, in
 * chunks) and the sender hears 'finish'; a stream with a wrong digest, a short file or a missing
 * digest is refused and leaves no file behind; a refused transfer reports 'failure' (and
 * unreachable) to the sender; the source's copy is always released; one transfer per peer at a time.
 * Method: real transports on 127.0.0.1:0; corrupt streams come from a raw gRPC client speaking
 * the Snapshot method directly.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { Client, credentials, Server, status, type ServerReadableStream, type ServiceError } from '@grpc/grpc-js';
import type { Message } from '@corvid/raft';
import type { SnapshotChunk } from '../../src/peer/codec.js';
import type { SnapshotSource } from '../../src/peer/index.js';
import { SNAPSHOT_METHOD, callMetadata } from '../../src/peer/service.js';
import { bindLocal, CLUSTER, member, metricValue, msg, waitFor, type Member } from './harness.js';

const open: Member[] = [];
afterEach(async () => {
  for (const m of open.splice(0)) await m.close();
});

const SNAP: Message = msg({
  type: 'MsgSnap', to: 2n, from: 1n, term: 5,
  snapshot: { data: new Uint8Array(0), metadata: { index: 1234, term: 4, confState: { voters: [1n, 2n], learners: [] } } },
});

/** A source that serves `file` and records every open and release. */
function fileSource(file: string): SnapshotSource & { opened: number; released: number } {
  const source = {
    opened: 0,
    released: 0,
    open: async () => {
      source.opened++;
      return { path: file, release: async () => void source.released++ };
    },
  };
  return source;
}

function snapshotFile(sizeBytes: number): { path: string; content: Buffer } {
  const content = randomBytes(sizeBytes);
  const path = join(mkdtempSync(join(tmpdir(), 'corvid-peer-src-')), 'db');
  writeFileSync(path, content);
  return { path, content };
}

async function pair(source: SnapshotSource, receiverDir?: string): Promise<[Member, Member]> {
  const a = member(1n, { snapshots: source });
  const b = member(2n, receiverDir === undefined ? {} : { snapshotDir: receiverDir });
  open.push(a, b);
  a.transport.setPeer(2n, [await b.listen()]);
  return [a, b];
}

describe('snapshot transfer', () => {
  it('delivers the file intact and reports finish', async () => {
    const file = snapshotFile(5 * 1024 * 1024 + 123);
    const source = fileSource(file.path);
    const [a, b] = await pair(source);
    a.transport.send([SNAP]);
    await waitFor('finish reported', () => a.snapshotStatus.length === 1);
    expect(a.snapshotStatus).toEqual([{ id: 2n, status: 'finish' }]);
    expect(b.snapshots).toHaveLength(1);
    const [{ msg: received, dbPath }] = b.snapshots as [{ msg: Message; dbPath: string }];
    expect(received).toEqual(SNAP);
    expect(dbPath).toBe(join(b.snapshotDir, '4-1234.db'));
    expect(readFileSync(dbPath).equals(file.content)).toBe(true);
    expect(readdirSync(b.snapshotDir)).toEqual(['4-1234.db']);
    expect(source).toMatchObject({ opened: 1, released: 1 });
    expect(a.unreachable).toEqual([]);
    expect(b.stepped).toEqual([]); // a MsgSnap reaches Raft only through receiveSnapshot
    expect(await metricValue(a.registry, 'etcd_network_snapshot_send_success', { To: '2' })).toBe(1);
    expect(await metricValue(b.registry, 'etcd_network_snapshot_receive_success', { From: '1' })).toBe(1);
    expect(await metricValue(a.registry, 'etcd_network_snapshot_send_total_duration_seconds', { To: '2' }, '_count')).toBe(1);
  });

  it('reports failure and unreachable when the receiver refuses, and still releases the copy', async () => {
    // The receiver cannot create its snapshot directory: below a regular file.
    const blocker = join(mkdtempSync(join(tmpdir(), 'corvid-peer-')), 'not-a-dir');
    writeFileSync(blocker, 'x');
    const source = fileSource(snapshotFile(64 * 1024).path);
    const [a, b] = await pair(source, join(blocker, 'snap'));
    a.transport.send([SNAP]);
    await waitFor('failure reported', () => a.snapshotStatus.length === 1);
    expect(a.snapshotStatus).toEqual([{ id: 2n, status: 'failure' }]);
    expect(a.unreachable).toEqual([2n]);
    expect(b.snapshots).toEqual([]);
    expect(source).toMatchObject({ opened: 1, released: 1 });
    expect(await metricValue(a.registry, 'etcd_network_snapshot_send_failures', { To: '2' })).toBe(1);
    expect(await metricValue(b.registry, 'etcd_network_snapshot_receive_failures', { From: '1' })).toBe(1);
  });

  it('an isolated sender\'s transfer is refused: failure reported, copy released, nothing written', async () => {
    const source = fileSource(snapshotFile(4 * 1024 * 1024).path);
    const [a, b] = await pair(source);
    b.transport.isolate([1n]);
    a.transport.send([SNAP]);
    await waitFor('failure reported', () => a.snapshotStatus.length === 1);
    expect(a.snapshotStatus).toEqual([{ id: 2n, status: 'failure' }]);
    expect(source).toMatchObject({ opened: 1, released: 1 });
    expect(b.snapshots).toEqual([]);
    expect(existsSync(b.snapshotDir) ? readdirSync(b.snapshotDir) : []).toEqual([]);
    expect(a.logs.find((l) => l.msg === 'failed to send database snapshot')?.fields?.error).toContain('peer isolated');
  });

  it('reports failure when the source cannot provide a copy', async () => {
    const [a] = await pair({ open: () => Promise.reject(new Error('backend closed')) });
    a.transport.send([SNAP]);
    await waitFor('failure reported', () => a.snapshotStatus.length === 1);
    expect(a.snapshotStatus).toEqual([{ id: 2n, status: 'failure' }]);
  });

  it('keeps one transfer per peer in flight', async () => {
    let releaseFirst: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    const file = snapshotFile(1024);
    let opened = 0;
    const [a, b] = await pair({
      open: async () => {
        opened++;
        await gate;
        return { path: file.path, release: async () => undefined };
      },
    });
    a.transport.send([SNAP]);
    a.transport.send([SNAP]);
    releaseFirst();
    await waitFor('finish reported', () => a.snapshotStatus.length === 1);
    expect(opened).toBe(1);
    expect(a.logs.some((l) => l.msg === 'dropped MsgSnap: a snapshot to this peer is in flight')).toBe(true);
    expect(b.snapshots).toHaveLength(1);
    // Once it is done, the next one goes.
    a.transport.send([SNAP]);
    await waitFor('second finish', () => a.snapshotStatus.length === 2);
    expect(opened).toBe(2);
  });
});

describe('snapshot transfer and close()', () => {
  it('close() cancels a transfer in flight, releases the copy and reports nothing', async () => {
    // A receiver that reads the header and then nothing more, so the sender waits for 'drain'.
    let headers = 0;
    const server = new Server();
    server.addService({ Snapshot: SNAPSHOT_METHOD }, {
      Snapshot: (call: ServerReadableStream<SnapshotChunk, unknown>) => {
        call.once('data', () => {
          headers++;
          call.pause();
        });
      },
    });
    const port = await bindLocal(server);
    try {
      const source = fileSource(snapshotFile(16 * 1024 * 1024).path);
      const a = member(1n, { snapshots: source });
      a.transport.setPeer(2n, [`http://127.0.0.1:${port}`]);
      a.transport.send([SNAP]);
      await waitFor('the receiver has the header', () => headers === 1);
      await a.close();
      expect(source).toMatchObject({ opened: 1, released: 1 });
      // (This server has no Stream method, so a's stream reports b unreachable; the snapshot reports nothing.)
      expect(a.snapshotStatus).toEqual([]);
    } finally {
      server.forceShutdown();
    }
  });

  it('the receiver removes the partial file of a cancelled call', async () => {
    const b = member(2n);
    open.push(b);
    const url = await b.listen();
    const client = new Client(new URL(url).host, credentials.createInsecure());
    const call = client.makeClientStreamRequest(SNAPSHOT_METHOD.path, SNAPSHOT_METHOD.requestSerialize, SNAPSHOT_METHOD.responseDeserialize,
      callMetadata(1n, CLUSTER), {}, () => undefined);
    call.write({ kind: 'header', message: SNAP, sizeBytes: 2 * 1024 * 1024 });
    call.write({ kind: 'data', data: randomBytes(1024 * 1024) });
    const part = join(b.snapshotDir, '4-1234.db.part');
    await waitFor('the partial file', () => existsSync(part));
    call.cancel();
    client.close();
    await waitFor('the refusal logged', () => b.logs.some((l) => l.msg === 'failed to receive snapshot'));
    expect(readdirSync(b.snapshotDir)).toEqual([]);
    expect(b.snapshots).toEqual([]);
  });
});

describe('snapshot receiver refuses a corrupt stream', () => {
  const content = randomBytes(3 * 1024 * 1024);
  const digest = createHash('sha256').update(content).digest();

  /** Sends `chunks` on a raw Snapshot call to `url` as member 1 and returns the answer. */
  function rawSend(url: string, chunks: SnapshotChunk[]): Promise<ServiceError | null> {
    const client = new Client(new URL(url).host, credentials.createInsecure());
    return new Promise((resolve) => {
      const call = client.makeClientStreamRequest(SNAPSHOT_METHOD.path, SNAPSHOT_METHOD.requestSerialize, SNAPSHOT_METHOD.responseDeserialize,
        callMetadata(1n, CLUSTER), {}, (err) => {
          client.close();
          resolve(err);
        });
      for (const chunk of chunks) call.write(chunk);
      call.end();
    });
  }

  async function receiver(): Promise<{ b: Member; url: string }> {
    const b = member(2n);
    open.push(b);
    return { b, url: await b.listen() };
  }

  const header: SnapshotChunk = { kind: 'header', message: SNAP, sizeBytes: content.byteLength };
  const data = (from: number, to: number): SnapshotChunk => ({ kind: 'data', data: content.subarray(from, to) });
  const MiB = 1024 * 1024;

  it('accepts the intact stream it is compared with', async () => {
    const { b, url } = await receiver();
    expect(await rawSend(url, [header, data(0, MiB), data(MiB, 3 * MiB), { kind: 'sha256', digest }])).toBeNull();
    expect(b.snapshots.map((s) => s.dbPath)).toEqual([join(b.snapshotDir, '4-1234.db')]);
  });

  it.each([
    ['a wrong digest', [header, data(0, MiB), data(MiB, 3 * MiB), { kind: 'sha256', digest: Buffer.alloc(32) }], 'SHA-256 mismatch'],
    ['a flipped byte', [header, data(0, MiB), { kind: 'data', data: Buffer.concat([content.subarray(MiB, 2 * MiB), Buffer.from([content[2 * MiB]! ^ 1]), content.subarray(2 * MiB + 1)]) }, { kind: 'sha256', digest }], 'SHA-256 mismatch'],
    ['a short file', [header, data(0, MiB), { kind: 'sha256', digest }], 'truncated'],
    ['no digest', [header, data(0, MiB), data(MiB, 3 * MiB)], 'no digest'],
    ['more than announced', [{ ...header, sizeBytes: MiB } as SnapshotChunk, data(0, MiB), data(MiB, 2 * MiB)], 'more than the announced'],
    ['no header', [data(0, MiB)], 'must start with its header'],
    ['another member\'s snapshot', [{ ...header, message: { ...SNAP, to: 5n } } as SnapshotChunk, data(0, MiB), data(MiB, 3 * MiB), { kind: 'sha256', digest }], 'addressed to member 5'],
  ] as Array<[string, SnapshotChunk[], string]>)('%s', async (_name, chunks, text) => {
    const { b, url } = await receiver();
    const err = await rawSend(url, chunks);
    expect(err?.details).toContain(text);
    expect([status.DATA_LOSS, status.INVALID_ARGUMENT]).toContain(err?.code);
    expect(b.snapshots).toEqual([]);
    // No .part and no .db left behind.
    expect(existsSync(b.snapshotDir) ? readdirSync(b.snapshotDir) : []).toEqual([]);
    expect(await metricValue(b.registry, 'etcd_network_snapshot_receive_failures', { From: '1' })).toBe(1);
  });
});
