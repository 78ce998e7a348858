/**
 * --grpc-keepalive-min-time: grpc-go's server keepalive enforcement as etcd 3.4 configures it
 * (PermitWithoutStream false), which grpc-js's server lacks. A client PING counts a strike when it
 * comes sooner than the minimum time after the previous one — or, with no stream open, sooner
 * than 2 h after it; a new stream clears the strikes (grpc-go clears them whenever it sends
 * headers or data: here only at a new stream, so a client pinging a busy watch stream faster than
 * the minimum is closed sooner than etcd would). Past two strikes the connection gets GOAWAY
 * ENHANCE_YOUR_CALM "too_many_pings" and is closed, as grpc-go's.
 */
import http2 from 'node:http2';
import type { Server } from '@grpc/grpc-js';

/** grpc-go's maxPingStrikes. */
const MAX_PING_STRIKES = 2;
/** grpc-go's defaultPingTimeout: the spacing it expects between pings on a connection with no stream. */
const IDLE_PING_MIN_MS = 2 * 3_600_000;
/** grpc-go's default enforcement MinTime, which etcd leaves in place when --grpc-keepalive-min-time is 0. */
const DEFAULT_MIN_TIME_MS = 5 * 60_000;
/** How long the GOAWAY gets to reach the client before the connection is cut. */
const CLOSE_GRACE_MS = 1_000;

/** grpc-js keeps the HTTP/2 servers it made (one per bind or connection injector) in this private map. */
interface WithHttp2Servers {
  readonly http2Servers?: Map<http2.Http2Server, unknown>;
}

const ENFORCED = Symbol('corvid.pingPolicy');

/** Call once the client listeners exist: every HTTP/2 server of `server` gets the policy, once. */
export function enforcePingPolicy(server: Server, minTimeMs: number, nowMs: () => number = () => performance.now()): void {
  const servers = (server as unknown as WithHttp2Servers).http2Servers;
  if (!(servers instanceof Map)) throw new Error('grpc-js keeps no http2Servers map: re-check api/ping-policy.ts against this grpc-js');
  const withStreamMinMs = minTimeMs > 0 ? minTimeMs : DEFAULT_MIN_TIME_MS;
  for (const h2 of servers.keys()) {
    const tagged = h2 as http2.Http2Server & { [ENFORCED]?: true };
    if (tagged[ENFORCED] === true) continue;
    tagged[ENFORCED] = true;
    h2.on('session', (session: http2.ServerHttp2Session) => watchPings(session, withStreamMinMs, nowMs));
  }
}

function watchPings(session: http2.ServerHttp2Session, withStreamMinMs: number, nowMs: () => number): void {
  let openStreams = 0;
  let strikes = 0;
  let lastPingAtMs = Number.NEGATIVE_INFINITY;
  let lastStreamId = 0;
  session.on('stream', (stream: http2.ServerHttp2Stream) => {
    openStreams++;
    lastStreamId = Math.max(lastStreamId, stream.id ?? 0);
    strikes = 0;
    stream.once('close', () => openStreams--);
  });
  session.on('ping', () => {
    const now = nowMs();
    const minMs = openStreams > 0 ? withStreamMinMs : IDLE_PING_MIN_MS;
    if (now - lastPingAtMs < minMs) strikes++;
    lastPingAtMs = now;
    if (strikes > MAX_PING_STRIKES && !session.closed && !session.destroyed) {
      session.goaway(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, lastStreamId, Buffer.from('too_many_pings'));
      session.close();
      // grpc-go closes the connection; a client that keeps its streams open after the GOAWAY loses them.
      setTimeout(() => session.destroy(), CLOSE_GRACE_MS).unref();
    }
  });
}
