/**
 * Goal: the peer transport delivers Raft messages between members over real gRPC, in order and in
 * batches; reports unreachable peers and reconnects when they come back; keeps its queue bounded
 * when a peer does not read; refuses a member of another cluster; and isolate() cuts both ways
 * until healed.
 * Method: two or three PeerTransports on 127.0.0.1:0 in this process, handlers that record every
 * callback, and waits on conditions with deadlines.
 */
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { Client, credentials, Server, type ServerReadableStream, type ServiceError, type sendUnaryData } from '@grpc/grpc-js';
import type { Message } from '@corvid/raft';
import { encodeBatch } from '../../src/peer/codec.js';
import { MAX_QUEUE_MESSAGES } from '../../src/peer/index.js';
import { STREAM_METHOD, callMetadata } from '../../src/peer/service.js';
import { bindLocal, CLUSTER, cluster, member, metricValue, msg, waitFor, type Member } from './harness.js';

const open: Member[] = [];
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const m of open.splice(0)) await m.close();
  for (const c of cleanups.splice(0)) await c();
});

async function started(...ids: bigint[]): Promise<Member[]> {
  const members = await cluster(...ids);
  open.push(...members);
  return members;
}

function app(to: bigint, from: bigint, index: number, data = 'x'): Message {
  return msg({ type: 'MsgApp', to, from, term: 2, index, entries: [{ term: 2, index: index + 1, type: 'Normal', data: new TextEncoder().encode(data) }] });
}

/** A port nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('PeerTransport', () => {
  it('delivers messages in order, from every peer, and counts the bytes both ways', async () => {
    const [a, b, c] = await started(1n, 2n, 3n) as [Member, Member, Member];
    const fromA = Array.from({ length: 2000 }, (_, i) => app(2n, 1n, i));
    const fromC = Array.from({ length: 500 }, (_, i) => app(2n, 3n, i));
    a.transport.send(fromA.slice(0, 1000));
    c.transport.send(fromC);
    a.transport.send(fromA.slice(1000));
    await waitFor('2500 messages at b', () => b.stepped.length === 2500);
    expect(b.stepped.filter((m) => m.from === 1n).map((m) => m.index)).toEqual(fromA.map((m) => m.index));
    expect(b.stepped.filter((m) => m.from === 3n).map((m) => m.index)).toEqual(fromC.map((m) => m.index));
    expect(new TextDecoder().decode(b.stepped[0]?.entries[0]?.data)).toBe('x');
    expect(a.unreachable).toEqual([]);
    const sent = await metricValue(a.registry, 'etcd_network_peer_sent_bytes_total', { To: '2' });
    const received = await metricValue(b.registry, 'etcd_network_peer_received_bytes_total', { From: '1' });
    expect(sent).toBeGreaterThan(2000 * 10);
    expect(received).toBe(sent);
  });

  it('sends each send() call as batches, not one frame per message', async () => {
    const a = member(1n);
    open.push(a);
    let frames = 0;
    let messages = 0;
    const b = member(2n);
    open.push(b);
    // b's own service behind a server that counts the frames it reads.
    const { definition, implementation } = b.transport.service();
    const stream = implementation.Stream as (call: ServerReadableStream<Uint8Array, unknown>, cb: sendUnaryData<unknown>) => void;
    const server = new Server();
    server.addService(definition, {
      ...implementation,
      Stream: (call: ServerReadableStream<Uint8Array, unknown>, cb: sendUnaryData<unknown>) => {
        call.on('data', () => frames++);
        stream(call, cb);
      },
    });
    const port = await bindLocal(server);
    cleanups.push(async () => {
      server.forceShutdown();
    });
    a.transport.setPeer(2n, [`http://127.0.0.1:${port}`]);
    for (let round = 0; round < 5; round++) {
      a.transport.send(Array.from({ length: 200 }, (_, i) => msg({ type: 'MsgHeartbeat', to: 2n, from: 1n, term: 2, commit: round * 200 + i })));
      messages += 200;
      await waitFor('the round delivered', () => b.stepped.length === messages);
    }
    expect(b.stepped.map((m) => m.commit)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(frames).toBeGreaterThanOrEqual(5);
    expect(frames).toBeLessThanOrEqual(10);
  });

  it('reports a peer that is down unreachable, then reconnects and delivers once it is up', async () => {
    const port = await freePort();
    const a = member(1n);
    const b = member(2n);
    open.push(a, b);
    a.transport.setPeer(2n, [`http://127.0.0.1:${port}`]);
    const beat = (): void => a.transport.send([msg({ type: 'MsgHeartbeat', to: 2n, from: 1n, term: 2 })]);
    beat();
    await waitFor('b reported unreachable', () => a.unreachable.includes(2n));
    expect(await metricValue(a.registry, 'etcd_network_peer_sent_failures_total', { To: '2' })).toBeGreaterThan(0);
    expect(a.transport.activePeers(60_000)).toEqual([]);
    await b.listen(`http://127.0.0.1:${port}`);
    // Raft keeps sending heartbeats; one gets through once the back-off redials.
    const timer = setInterval(beat, 50);
    try {
      await waitFor('a heartbeat at b', () => b.stepped.length > 0, 15_000);
    } finally {
      clearInterval(timer);
    }
    expect(b.stepped[0]).toMatchObject({ type: 'MsgHeartbeat', from: 1n, to: 2n });
    expect(a.transport.activePeers(60_000)).toEqual([2n]);
    expect(await metricValue(a.registry, 'etcd_network_active_peers', { Local: '1', Remote: '2' })).toBe(1);

    // The stream breaks when b goes away: counted as a disconnect, reported unreachable.
    const before = a.unreachable.length;
    await b.stopListening();
    await waitFor('the broken stream reported', () => a.unreachable.length > before);
    expect(await metricValue(a.registry, 'etcd_network_disconnected_peers_total', { Local: '1', Remote: '2' })).toBe(1);
    expect(await metricValue(a.registry, 'etcd_network_active_peers', { Local: '1', Remote: '2' })).toBe(0);
  });

  it('tries every URL of a peer', async () => {
    const dead = await freePort();
    const [a, b] = [member(1n), member(2n)];
    open.push(a, b);
    const live = await b.listen();
    a.transport.setPeer(2n, [`http://127.0.0.1:${dead}`, live]);
    const timer = setInterval(() => a.transport.send([msg({ type: 'MsgHeartbeat', to: 2n, from: 1n })]), 50);
    try {
      await waitFor('a heartbeat over the second URL', () => b.stepped.length > 0);
    } finally {
      clearInterval(timer);
    }
    expect(b.stepped[0]?.from).toBe(1n);
  });

  it('ignores peer URLs it cannot dial, and a peer that has no other', async () => {
    const [a, b] = [member(1n), member(2n)];
    open.push(a, b);
    const live = await b.listen();
    a.transport.setPeer(3n, ['https://127.0.0.1:1', 'not a url']);
    a.transport.send([msg({ type: 'MsgHeartbeat', to: 3n, from: 1n })]);
    expect(a.logs.filter((l) => l.msg === 'ignored peer URLs that are not http://host:port')).toHaveLength(1);
    expect(a.logs.some((l) => l.msg === 'ignored message send request; unknown remote peer target')).toBe(true);
    a.transport.setPeer(2n, ['ftp://127.0.0.1:1', live]);
    a.transport.send([msg({ type: 'MsgHeartbeat', to: 2n, from: 1n })]);
    await waitFor('delivered over the one good URL', () => b.stepped.length === 1);
  });

  /** A peer that accepts TCP connections and never answers, so HTTP/2 never starts and nothing drains; its URL. */
  async function blackHole(): Promise<string> {
    const sockets: Socket[] = [];
    const hole: NetServer = createServer((s) => {
      sockets.push(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => hole.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => hole.close(() => resolve()));
    });
    return `http://127.0.0.1:${(hole.address() as { port: number }).port}`;
  }

  it('keeps the queue bounded when a peer never reads, dropping and reporting unreachable', async () => {
    const a = member(1n);
    open.push(a);
    a.transport.setPeer(2n, [await blackHole()]);
    const entry = 'e'.repeat(1024);
    let peak = 0;
    for (let batch = 0; batch < 50; batch++) {
      a.transport.send(Array.from({ length: 1000 }, (_, i) => app(2n, 1n, batch * 1000 + i, entry)));
      peak = Math.max(peak, a.transport.queuedMessages(2n));
    }
    // 50 MiB of entries went in; what is kept is the queue (4 MiB of them here) plus grpc-js's 16-frame write buffer.
    expect(peak).toBe(MAX_QUEUE_MESSAGES);
    await waitFor('unreachable reported', () => a.unreachable.length > 0);
    // Reported at most once per send() call, not once per dropped message.
    expect(a.unreachable.length).toBeLessThanOrEqual(50);
    expect(a.unreachable.every((id) => id === 2n)).toBe(true);
    expect(await metricValue(a.registry, 'etcd_network_peer_sent_failures_total', { To: '2' })).toBeGreaterThanOrEqual(50_000 - MAX_QUEUE_MESSAGES - 16 * 1000);
  });

  it('bounds the queued bytes too: large MsgApps to a peer that never reads', async () => {
    const a = member(1n);
    open.push(a);
    a.transport.setPeer(2n, [await blackHole()]);
    const mib = new Uint8Array(1 << 20); // shared by every entry: the queue counts it each time
    let peak = 0;
    for (let i = 0; i < 200; i++) {
      a.transport.send([msg({ type: 'MsgApp', to: 2n, from: 1n, index: i, entries: [{ term: 1, index: i + 1, type: 'Normal', data: mib }] })]);
      peak = Math.max(peak, a.transport.queuedMessages(2n));
    }
    // 64 MiB of entries at most (MAX_QUEUE_BYTES), far below the 4096-message bound.
    expect(peak).toBeGreaterThan(32);
    expect(peak).toBeLessThan(64);
    await waitFor('unreachable reported', () => a.unreachable.length > 0);
  });

  it('hands Raft only the messages addressed to it, never a MsgSnap without its file', async () => {
    const b = member(2n);
    open.push(b);
    const url = await b.listen();
    const client = new Client(new URL(url).host, credentials.createInsecure());
    const answer = new Promise<ServiceError | null>((resolve) => {
      const call = client.makeClientStreamRequest(STREAM_METHOD.path, STREAM_METHOD.requestSerialize, STREAM_METHOD.responseDeserialize,
        callMetadata(1n, CLUSTER), {}, (err) => resolve(err));
      call.write(encodeBatch([
        msg({ type: 'MsgHeartbeat', to: 5n, from: 1n, commit: 1 }),
        msg({ type: 'MsgHeartbeat', to: 2n, from: 1n, commit: 2 }),
        msg({ type: 'MsgSnap', to: 2n, from: 1n, snapshot: { data: new Uint8Array(0), metadata: { index: 3, term: 1, confState: { voters: [1n, 2n], learners: [] } } } }),
      ]));
      call.end();
    });
    expect(await answer).toBeNull();
    client.close();
    expect(b.stepped.map((m) => m.commit)).toEqual([2]);
    expect(b.snapshots).toEqual([]);
    expect(await metricValue(b.registry, 'etcd_network_peer_received_failures_total', { From: '1' })).toBe(2);
    expect(b.logs.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual([
      'ignored message addressed to another member', 'ignored MsgSnap received without its snapshot file',
    ]);
  });

  it('refuses a member of another cluster: FAILED_PRECONDITION, logged by the sender', async () => {
    const a = member(1n, { clusterId: 0xaaaan });
    const b = member(2n, { clusterId: 0xbbbbn });
    open.push(a, b);
    const url = await b.listen();
    a.transport.setPeer(2n, [url]);
    a.transport.send([msg({ type: 'MsgHeartbeat', to: 2n, from: 1n })]);
    await waitFor('the mismatch logged by a', () => a.logs.some((l) => l.msg === 'request sent was ignored due to cluster ID mismatch'));
    expect(a.logs.find((l) => l.msg === 'request sent was ignored due to cluster ID mismatch')?.fields?.error).toBe('cluster ID mismatch');
    expect(b.logs.some((l) => l.msg === 'request cluster ID mismatch')).toBe(true);
    expect(a.unreachable).toContain(2n);
    expect(b.stepped).toEqual([]);
    expect(a.transport.activePeers(60_000)).toEqual([]);
  });

  it('isolate() drops messages both ways until healed', async () => {
    const [a, b, c] = await started(1n, 2n, 3n) as [Member, Member, Member];
    const hb = (from: bigint, to: bigint, commit: number): Message => msg({ type: 'MsgHeartbeat', from, to, commit });
    a.transport.send([hb(1n, 2n, 1)]);
    b.transport.send([hb(2n, 1n, 1)]);
    await waitFor('connected both ways', () => a.stepped.length === 1 && b.stepped.length === 1);

    a.transport.isolate([2n]);
    a.transport.send([hb(1n, 2n, 2), hb(1n, 3n, 2)]);
    b.transport.send([hb(2n, 1n, 2), hb(2n, 3n, 2)]);
    // c is not cut off from either: its two messages arrive, and are a marker that the others had time to.
    await waitFor('c hears from both', () => c.stepped.length === 2);
    c.transport.send([hb(3n, 1n, 3)]);
    await waitFor('a hears c', () => a.stepped.some((m) => m.from === 3n));
    expect(a.stepped.filter((m) => m.from === 2n).map((m) => m.commit)).toEqual([1]);
    expect(b.stepped.filter((m) => m.from === 1n).map((m) => m.commit)).toEqual([1]);
    // A MsgSnap into the partition is lost too, and Raft hears that it failed.
    a.transport.send([msg({ type: 'MsgSnap', to: 2n, from: 1n, snapshot: { data: new Uint8Array(0), metadata: { index: 9, term: 1, confState: { voters: [1n, 2n], learners: [] } } } })]);
    await waitFor('the lost snapshot reported', () => a.snapshotStatus.length === 1);
    expect(a.snapshotStatus).toEqual([{ id: 2n, status: 'failure' }]);

    a.transport.isolate([]);
    a.transport.send([hb(1n, 2n, 4)]);
    b.transport.send([hb(2n, 1n, 4)]);
    await waitFor('delivery restored both ways', () => a.stepped.some((m) => m.from === 2n && m.commit === 4) && b.stepped.some((m) => m.from === 1n && m.commit === 4));
    expect(a.stepped.filter((m) => m.from === 2n).map((m) => m.commit)).toEqual([1, 4]);
  });

  it('measures the round trip with Ping while the stream is up', async () => {
    const [a, b] = await started(1n, 2n) as [Member, Member];
    a.transport.send([msg({ type: 'MsgHeartbeat', to: 2n, from: 1n })]);
    await waitFor('connected', () => b.stepped.length === 1);
    const pings = (): Promise<number> => metricValue(a.registry, 'etcd_network_peer_round_trip_time_seconds', { To: '2' }, '_count');
    await waitFor('a ping answered', async () => (await pings()) > 0, 15_000);
    expect(b.transport.activePeers(60_000)).toEqual([1n]);
  });

  it('follows a peer to new URLs and forgets a removed one', async () => {
    const [a, b] = await started(1n, 2n) as [Member, Member];
    a.transport.send([msg({ type: 'MsgHeartbeat', to: 2n, from: 1n, commit: 1 })]);
    await waitFor('delivered', () => b.stepped.length === 1);
    await b.stopListening();
    a.transport.setPeer(2n, [await b.listen()]);
    const timer = setInterval(() => a.transport.send([msg({ type: 'MsgHeartbeat', to: 2n, from: 1n, commit: 2 })]), 50);
    try {
      await waitFor('delivered at the new URL', () => b.stepped.some((m) => m.commit === 2));
    } finally {
      clearInterval(timer);
    }
    a.transport.removePeer(2n);
    a.transport.send([msg({ type: 'MsgHeartbeat', to: 2n, from: 1n, commit: 3 })]);
    expect(a.logs.some((l) => l.msg === 'ignored message send request; unknown remote peer target')).toBe(true);
    expect(a.transport.queuedMessages(2n)).toBe(0);
    expect(a.transport.activePeers(60_000)).toEqual([]);
    expect(await metricValue(a.registry, 'etcd_network_active_peers', { Local: '1', Remote: '2' })).toBe(0);
    expect(b.stepped.some((m) => m.commit === 3)).toBe(false);
  });
});
