/**
 * Keeps a client that resets its streams at once from ending the process. Node 20 emits an HTTP/2
 * server's 'stream' event on a later tick than the one the stream opened in (nodejs/node#57416), so
 * a stream the client has already reset can arrive destroyed. grpc-js answers some streams
 * synchronously from that event (a wrong content type, an unknown method) with `stream.respond`,
 * which throws ERR_HTTP2_INVALID_STREAM on a destroyed stream, out of the event emitter and out of
 * the process. Found by test/e2e/fuzz.test.ts. A listener placed before grpc-js's makes `respond` a
 * no-op on such a stream: nothing can be sent on it anyway.
 */
import type http2 from 'node:http2';
import type { Server } from '@grpc/grpc-js';

/** grpc-js keeps the HTTP/2 servers it made (one per bind or connection injector) in this private map. */
interface WithHttp2Servers {
  readonly http2Servers?: Map<http2.Http2Server, unknown>;
}

const GUARDED = Symbol('corvid.destroyedStreamGuard');

/** Call after every `bindAsync` / `createConnectionInjector` on `server`; guards each HTTP/2 server once. */
export function guardDestroyedStreams(server: Server): void {
  const servers = (server as unknown as WithHttp2Servers).http2Servers;
  // A grpc-js upgrade that renames the map must not silently drop the guard: every member start fails instead.
  if (!(servers instanceof Map) || servers.size === 0) throw new Error('grpc-js keeps no http2Servers map: re-check util/grpc-stream-guard.ts against this grpc-js');
  for (const h2 of servers.keys()) {
    const tagged = h2 as http2.Http2Server & { [GUARDED]?: true };
    if (tagged[GUARDED] === true) continue;
    tagged[GUARDED] = true;
    h2.prependListener('stream', (stream: http2.ServerHttp2Stream) => {
      if (stream.destroyed || stream.closed) stream.respond = (): void => undefined;
    });
  }
}
