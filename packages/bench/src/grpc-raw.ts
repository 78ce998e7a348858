// One unary gRPC call over node:http2 with a pre-encoded body: used to prefill keys and to check, before h2load
// replays a body, that the server answers it with grpc-status 0 (h2load itself sees only the HTTP status).
import http2 from 'node:http2';

export interface RawCallResult {
  readonly grpcStatus: number;
  readonly grpcMessage: string;
}

/** POSTs `frame` (already 5-byte framed) to `path` on `endpoint` (host:port); rejects after `timeoutMs`. */
export async function rawUnaryCall(endpoint: string, path: string, frame: Buffer, timeoutMs = 5000): Promise<RawCallResult> {
  const session = http2.connect(`http://${endpoint}`);
  try {
    return await new Promise<RawCallResult>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${path} on ${endpoint}: no answer in ${timeoutMs} ms`)), timeoutMs);
      session.on('error', (err) => { clearTimeout(timer); reject(err); });
      const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
      let status: string | undefined;
      let message = '';
      const take = (h: http2.IncomingHttpHeaders): void => {
        if (typeof h['grpc-status'] === 'string') status = h['grpc-status'];
        if (typeof h['grpc-message'] === 'string') message = decodeURIComponent(h['grpc-message']);
      };
      stream.on('response', take);
      stream.on('trailers', take);
      stream.on('data', () => undefined);
      stream.on('error', (err) => { clearTimeout(timer); reject(err); });
      stream.on('close', () => {
        clearTimeout(timer);
        resolve({ grpcStatus: status === undefined ? -1 : Number(status), grpcMessage: message });
      });
      stream.end(frame);
    });
  } finally {
    session.close();
  }
}
