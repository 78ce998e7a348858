/**
 * Goal: --max-concurrent-streams and --grpc-keepalive-interval/-timeout act on client connections as etcd 3.4's:
 * the member announces the stream limit in its HTTP/2 SETTINGS (also to a client that waits for the server's
 * SETTINGS before its first request, as grpc-go does), a stream beyond it waits until another one closes, and the
 * member pings an idle connection every interval (never, with etcd's 2 h default), and a client that pings too
 * often for --grpc-keepalive-min-time (or at all on an idle connection) gets GOAWAY ENHANCE_YOUR_CALM.
 * Method: raw node:http2 sessions (one connection, so the per-connection limit is what is measured), on etcd 3.4
 * and Corvid. Watch streams each send a create request; a stream is served once its `created` response arrives.
 */
import http2 from 'node:http2';
import { setTimeout as delay } from 'node:timers/promises';
import { etcdserverpb } from '@corvid/proto';
import { MEMBER_KINDS, ProcessGroup, type MemberKind } from '../harness/processes.js';
import { waitFor } from '../harness/wait.js';

/** How long a stream beyond the limit is watched to stay unserved, and an idle session to collect pings. */
const OBSERVE_MS = 1_000;
const KEEPALIVE_WINDOW_MS = 4_500;
/** A client's ping spacing that breaks the default policy; and how many such pings an allowing policy must take. */
const PING_FAST_MS = 100;
const ALLOWED_PINGS = 10;

const group = new ProcessGroup();
afterAll(async () => group.cleanup());

function grpcFrame(request: etcdserverpb.DeepPartial<etcdserverpb.WatchRequest>): Buffer {
  const body = etcdserverpb.WatchRequest.encode(etcdserverpb.WatchRequest.fromPartial(request)).finish();
  const header = Buffer.alloc(5);
  header.writeUInt32BE(body.length, 1);
  return Buffer.concat([header, body]);
}

/** Opens a Watch stream on `session` and sends one create request; `served()` once a response arrived. */
function openWatch(session: http2.ClientHttp2Session): { stream: http2.ClientHttp2Stream; served: () => boolean } {
  let bytes = 0;
  const stream = session.request({ ':method': 'POST', ':path': '/etcdserverpb.Watch/Watch', 'content-type': 'application/grpc', te: 'trailers' });
  stream.on('data', (chunk: Buffer) => (bytes += chunk.length));
  stream.on('error', () => undefined);
  stream.write(grpcFrame({ requestUnion: { $case: 'createRequest', value: { key: Buffer.from('k') } } }));
  return { stream, served: () => bytes > 0 };
}

async function connect(endpoint: string): Promise<{ session: http2.ClientHttp2Session; maxConcurrentStreams: number }> {
  const session = http2.connect(`http://${endpoint}`);
  session.on('error', () => undefined);
  // The limit from the server's SETTINGS (the first the member sends, as a grpc-go client would act on it).
  const settings = await new Promise<http2.Settings>((resolve) => session.once('remoteSettings', resolve));
  return { session, maxConcurrentStreams: settings.maxConcurrentStreams ?? Number.NaN };
}

describe.each(MEMBER_KINDS.map((kind) => [kind]))('client connection limits on %s', (kind: MemberKind) => {
  test('--max-concurrent-streams 2: announced, and a third stream waits for a free slot', async () => {
    const member = await group.start(kind, { extraArgs: ['--max-concurrent-streams', '2'] });
    const { session, maxConcurrentStreams } = await connect(member.endpoint);
    try {
      expect(maxConcurrentStreams).toBe(2);
      const watches = [openWatch(session), openWatch(session), openWatch(session)];
      await waitFor(() => watches[0]?.served() === true && watches[1]?.served() === true, 5_000, 'the first two streams to be served');
      await delay(OBSERVE_MS);
      expect(watches[2]?.served()).toBe(false);
      watches[0]?.stream.close();
      await waitFor(() => watches[2]?.served() === true, 5_000, 'the third stream to be served once the first closed');
    } finally {
      session.destroy();
      await member.stop();
    }
  }, 30_000);

  test.each([
    ['--grpc-keepalive-interval 1s: an idle connection is pinged every second', ['--grpc-keepalive-interval', '1s', '--grpc-keepalive-timeout', '5s'], 2],
    ['the default 2h interval: no ping', [], 0],
  ])('%s', async (_name, flags, minPings) => {
    const member = await group.start(kind, { extraArgs: flags });
    const { session } = await connect(member.endpoint);
    let pings = 0;
    session.on('ping', () => pings++);
    try {
      await delay(KEEPALIVE_WINDOW_MS);
      if (minPings === 0) expect(pings).toBe(0);
      else expect(pings).toBeGreaterThanOrEqual(minPings);
      expect(session.closed || session.destroyed).toBe(false);
    } finally {
      session.destroy();
      await member.stop();
    }
  }, 30_000);

  test.each([
    ['a client pinging an idle connection every 100 ms gets GOAWAY ENHANCE_YOUR_CALM', [], false, PING_FAST_MS, true],
    ['--grpc-keepalive-min-time 1s: pinging an open stream every 100 ms gets GOAWAY ENHANCE_YOUR_CALM', ['--grpc-keepalive-min-time', '1s'], true, PING_FAST_MS, true],
    ['--grpc-keepalive-min-time 50ms: pinging an open stream every 100 ms is allowed', ['--grpc-keepalive-min-time', '50ms'], true, PING_FAST_MS, false],
  ])('%s', async (_name, flags, withStream, everyMs, refused) => {
    const member = await group.start(kind, { extraArgs: flags });
    const { session } = await connect(member.endpoint);
    let goaway: { code: number; data: string } | undefined;
    session.on('goaway', (code: number, _last: number, data?: Buffer) => (goaway ??= { code, data: data?.toString() ?? '' }));
    if (withStream) openWatch(session);
    let pings = 0;
    const pinger = setInterval(() => {
      if (session.closed || session.destroyed) return;
      pings++;
      session.ping(() => undefined);
    }, everyMs);
    try {
      if (refused) {
        await waitFor(() => goaway, 5_000, 'a GOAWAY');
        // grpc-go allows two strikes: the fourth ping (three too soon after the one before) is refused.
        expect({ ...goaway, pings }).toEqual({ code: http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, data: 'too_many_pings', pings: 4 });
      } else {
        await waitFor(() => pings >= ALLOWED_PINGS, 5_000, `${ALLOWED_PINGS} pings`);
        expect(goaway).toBeUndefined();
      }
    } finally {
      clearInterval(pinger);
      session.destroy();
      await member.stop();
    }
  }, 30_000);
});
