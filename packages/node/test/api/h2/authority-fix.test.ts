// Goal: a connection whose first request carries etcdctl 3.4's `:authority: http://host:port`
// is recognised from its first header block, and once transcoded reaches the server with every
// frame intact but its header blocks, which decode (statelessly) to the client's headers with the
// authority cut to host:port; ordinary connections are recognised as valid. Method: a client byte
// stream built by hand (dynamic table references, padding, priority, CONTINUATION, a SETTINGS ACK
// to drop) fed whole, byte by byte and in odd chunks; then Node's own HTTP/2 client and server
// talking through AuthorityFixingConnection, which without it reset the stream.
import http2 from 'node:http2';
import net from 'node:net';
import { once } from 'node:events';
import {
  AuthorityFixingConnection, ClientHeaderTranscoder, fixedAuthority, sniffAuthority,
} from '../../../src/api/h2/authority-fix.js';
import { CLIENT_PREFACE, FRAME_HEADER_BYTES, FrameFlag, FrameType, readFrameHeader, writeFrameHeader } from '../../../src/api/h2/frames.js';
import { HpackDecoder, encodeInteger } from '../../../src/api/h2/hpack.js';

const str = (text: string): Buffer => Buffer.concat([Buffer.from(encodeInteger(text.length, 7)), Buffer.from(text, 'latin1')]);
/** Literal with incremental indexing, new name: enters the dynamic table. */
const indexed = (name: string, value: string): Buffer => Buffer.concat([Buffer.from([0x40]), str(name), str(value)]);
const ref = (index: number): Buffer => Buffer.from([0x80 | index]);
const frame = (type: number, flags: number, streamId: number, payload: Buffer): Buffer =>
  Buffer.concat([writeFrameHeader({ payloadBytes: payload.length, type, flags, streamId }), payload]);

const BAD = 'http://127.0.0.1:2379';
const SETTINGS = frame(FrameType.SETTINGS, 0, 0, Buffer.from('000400010000', 'hex'));
const SETTINGS_ACK = frame(FrameType.SETTINGS, FrameFlag.ACK, 0, Buffer.alloc(0));
const WINDOW_UPDATE = frame(FrameType.WINDOW_UPDATE, 0, 0, Buffer.from('00100000', 'hex'));
const FIRST_BLOCK = Buffer.concat([
  ref(3), ref(6), indexed(':path', '/etcdserverpb.Maintenance/Status'), indexed(':authority', BAD),
  indexed('content-type', 'application/grpc'), indexed('te', 'trailers'),
]);
// The dynamic table now holds te (62), content-type (63), :authority (64), :path (65).
const SECOND_BLOCK = Buffer.concat([Buffer.from(encodeInteger(4096, 5, 0x20)), ref(3), ref(6), ref(65), ref(64), ref(63), ref(62)]);
const EXPECTED_HEADERS = [
  [':method', 'POST'], [':scheme', 'http'], [':path', '/etcdserverpb.Maintenance/Status'], [':authority', '127.0.0.1:2379'],
  ['content-type', 'application/grpc'], ['te', 'trailers'],
];
const cut = 20;
const FIRST_HEADERS = frame(FrameType.HEADERS, FrameFlag.PADDED | FrameFlag.PRIORITY, 1,
  Buffer.concat([Buffer.from([4]), Buffer.from('0000000010', 'hex'), FIRST_BLOCK.subarray(0, cut), Buffer.alloc(4)]));
const FIRST_CONTINUATION = frame(FrameType.CONTINUATION, FrameFlag.END_HEADERS, 1, FIRST_BLOCK.subarray(cut));
const DATA = frame(FrameType.DATA, FrameFlag.END_STREAM, 1, Buffer.concat([Buffer.from('0000000003', 'hex'), Buffer.from('abc')]));
const SECOND_HEADERS = frame(FrameType.HEADERS, FrameFlag.END_HEADERS | FrameFlag.END_STREAM, 3, SECOND_BLOCK);
const PING = frame(FrameType.PING, 0, 0, Buffer.from('0102030405060708', 'hex'));
const CLIENT_STREAM = Buffer.concat([CLIENT_PREFACE, SETTINGS, WINDOW_UPDATE, SETTINGS_ACK, FIRST_HEADERS, FIRST_CONTINUATION, DATA, SECOND_HEADERS, PING]);

interface Frame { type: number; flags: number; streamId: number; payload: Buffer }
function framesOf(wire: Buffer): Frame[] {
  const out: Frame[] = [];
  for (let offset = 0; offset < wire.length; ) {
    const h = readFrameHeader(wire, offset)!;
    out.push({ type: h.type, flags: h.flags, streamId: h.streamId, payload: wire.subarray(offset + FRAME_HEADER_BYTES, offset + FRAME_HEADER_BYTES + h.payloadBytes) });
    offset += FRAME_HEADER_BYTES + h.payloadBytes;
  }
  return out;
}

function transcode(chunks: Buffer[]): Buffer {
  const transcoder = new ClientHeaderTranscoder(1);
  return Buffer.concat(chunks.flatMap((c) => transcoder.push(c)));
}

describe('fixedAuthority', () => {
  it('keeps host:port only', () => {
    expect(fixedAuthority('http://127.0.0.1:2379')).toBe('127.0.0.1:2379');
    expect(fixedAuthority('https://[::1]:2379/')).toBe('[::1]:2379');
    expect(fixedAuthority('unix://sock/x/y')).toBe('sock');
    expect(fixedAuthority('127.0.0.1:2379')).toBe('127.0.0.1:2379');
  });
});

describe('transcoding a client stream', () => {
  const whole = transcode([CLIENT_STREAM]);

  it('passes every frame but header blocks and the dropped ACK unchanged, in order', () => {
    expect(whole.subarray(0, CLIENT_PREFACE.length)).toEqual(CLIENT_PREFACE);
    const frames = framesOf(whole.subarray(CLIENT_PREFACE.length));
    expect(frames.map((f) => [f.type, f.flags, f.streamId])).toEqual([
      [FrameType.SETTINGS, 0, 0],
      [FrameType.WINDOW_UPDATE, 0, 0],
      [FrameType.HEADERS, FrameFlag.END_HEADERS, 1],
      [FrameType.DATA, FrameFlag.END_STREAM, 1],
      [FrameType.HEADERS, FrameFlag.END_HEADERS | FrameFlag.END_STREAM, 3],
      [FrameType.PING, 0, 0],
    ]);
    expect(Buffer.concat([frames[0]!, frames[1]!, frames[3]!, frames[5]!].map((f) => frame(f.type, f.flags, f.streamId, f.payload))))
      .toEqual(Buffer.concat([SETTINGS, WINDOW_UPDATE, DATA, PING]));
  });

  it('writes blocks that a fresh decoder reads as the client headers with the fixed authority, leaving its table empty', () => {
    const frames = framesOf(whole.subarray(CLIENT_PREFACE.length)).filter((f) => f.type === FrameType.HEADERS);
    const decoder = new HpackDecoder();
    for (const f of frames) {
      expect(decoder.decode(f.payload).map((h) => [h.name, h.value])).toEqual(EXPECTED_HEADERS);
      expect(decoder.dynamicTableBytes).toBe(0);
    }
  });

  it('gives the same bytes whatever the chunking', () => {
    const bytes = [...CLIENT_STREAM].map((b) => Buffer.from([b]));
    expect(transcode(bytes)).toEqual(whole);
    const odd: Buffer[] = [];
    for (let offset = 0, size = 1; offset < CLIENT_STREAM.length; offset += size, size = (size * 7) % 31 + 1) odd.push(CLIENT_STREAM.subarray(offset, offset + size));
    expect(transcode(odd)).toEqual(whole);
  });

  it('streams a DATA frame out as it arrives', () => {
    const transcoder = new ClientHeaderTranscoder();
    transcoder.push(CLIENT_PREFACE);
    const big = frame(FrameType.DATA, 0, 1, Buffer.alloc(10_000, 1));
    expect(Buffer.concat(transcoder.push(big.subarray(0, 5000)))).toEqual(big.subarray(0, 5000));
  });

  it('refuses a frame inside a header block', () => {
    const transcoder = new ClientHeaderTranscoder();
    expect(() => transcoder.push(Buffer.concat([CLIENT_PREFACE, FIRST_HEADERS, PING]))).toThrow(expect.objectContaining({ code: 'PROTOCOL_ERROR' }));
  });
});

describe('sniffAuthority', () => {
  const headersWith = (authority: string | null): Buffer => {
    const block = Buffer.concat([ref(3), ref(6), ref(4), ...(authority === null ? [] : [indexed(':authority', authority)])]);
    return frame(FrameType.HEADERS, FrameFlag.END_HEADERS, 1, block);
  };
  const sniff = (parts: Buffer[], sent = false): ReturnType<typeof sniffAuthority> => sniffAuthority(Buffer.concat([CLIENT_PREFACE, ...parts]), sent);

  it('waits, and reports the client idle once it has sent only its preface and settings', () => {
    expect(sniffAuthority(CLIENT_PREFACE.subarray(0, 10), false)).toMatchObject({ state: 'more', idle: false });
    expect(sniff([SETTINGS, WINDOW_UPDATE])).toMatchObject({ state: 'more', idle: true });
    expect(sniff([SETTINGS, FIRST_HEADERS])).toMatchObject({ state: 'more', idle: false });
    expect(sniff([SETTINGS.subarray(0, 12)])).toMatchObject({ state: 'more', idle: false });
  });

  it('judges the first request, across CONTINUATION, padding and priority', () => {
    expect(sniff([SETTINGS, headersWith('127.0.0.1:2379')]).state).toBe('valid');
    expect(sniff([SETTINGS, headersWith(null)]).state).toBe('valid');
    expect(sniff([SETTINGS, headersWith(BAD)]).state).toBe('invalid');
    expect(sniff([SETTINGS, FIRST_HEADERS, FIRST_CONTINUATION]).state).toBe('invalid');
  });

  it('after sending SETTINGS, also waits for their ACK and says where it is', () => {
    expect(sniff([SETTINGS, headersWith(BAD)], true)).toMatchObject({ state: 'more', idle: false });
    const start = CLIENT_PREFACE.length + SETTINGS.length;
    expect(sniff([SETTINGS, SETTINGS_ACK, headersWith(BAD)], true)).toEqual({ state: 'invalid', settingsAck: { start, end: start + 9 }, idle: false });
    expect(sniff([SETTINGS, headersWith('a:1'), DATA, SETTINGS_ACK], true).state).toBe('valid');
  });

  it('gives up on frames no client sends before its first request, and on a block it cannot decode', () => {
    expect(sniff([SETTINGS, PING]).state).toBe('unreadable');
    expect(sniff([frame(FrameType.HEADERS, FrameFlag.END_HEADERS, 1, ref(70))]).state).toBe('unreadable');
    expect(sniffAuthority(Buffer.from('PRI * HTTP/1.1\r\n\r\nxxxxxxxxxx'), false).state).toBe('unreadable');
  });
});

describe('AuthorityFixingConnection between Node HTTP/2 peers', () => {
  const servers: net.Server[] = [];
  afterAll(() => servers.forEach((s) => s.close()));

  async function serve(fix: boolean): Promise<number> {
    const h2 = http2.createServer();
    h2.on('stream', (stream, headers) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        stream.respond({ ':status': 200, 'x-authority': String(headers[':authority']) });
        stream.end(Buffer.concat(chunks));
      });
    });
    const server = net.createServer((socket) => {
      h2.emit('connection', fix ? new AuthorityFixingConnection(socket, Buffer.alloc(0), 0) : socket);
    });
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return (server.address() as net.AddressInfo).port;
  }

  async function post(port: number, body: Buffer): Promise<{ status: number | string; authority?: string; body?: Buffer }> {
    const client = http2.connect(`http://127.0.0.1:${port}`);
    client.on('error', () => undefined);
    try {
      const req = client.request({ ':method': 'POST', ':path': '/echo', ':authority': `http://127.0.0.1:${port}` });
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.end(body);
      const [headers] = (await Promise.race([once(req, 'response'), once(req, 'error').then(([e]) => { throw e; })])) as [http2.IncomingHttpHeaders];
      await once(req, 'end');
      return { status: Number(headers[':status']), authority: String(headers['x-authority']), body: Buffer.concat(chunks) };
    } catch (err) {
      return { status: (err as { code?: string }).code ?? 'error' };
    } finally {
      client.close();
    }
  }

  it('without it, nghttp2 resets the stream', async () => {
    expect((await post(await serve(false), Buffer.from('x'))).status).toBe('ERR_HTTP2_STREAM_ERROR');
  });

  it('with it, the request arrives with host:port and a large body echoes back whole', async () => {
    const port = await serve(true);
    const body = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = i % 251;
    const res = await post(port, body);
    expect(res.status).toBe(200);
    expect(res.authority).toBe(`127.0.0.1:${port}`);
    expect(res.body?.equals(body)).toBe(true);
  });
});
