/**
 * Works around etcdctl 3.4 sending `:authority: http://127.0.0.1:2379` (scheme and all) on the
 * connections it dials for Maintenance calls when its endpoints are URLs (etcd issue #13192,
 * fixed in etcd by PR #13359). etcd's Go server takes it; Node's nghttp2 checks :authority against
 * RFC 3986 and resets the stream with PROTOCOL_ERROR before grpc-js sees it, and Node offers no
 * option to turn that check off (no `nghttp2_option_set_no_http_messaging` among the options
 * `http2.createServer` passes down). So the client listener looks at the first request of every
 * HTTP/2 connection before handing it over:
 *
 * - `sniffAuthority` reads the buffered preface and frames up to the first complete header block
 *   and says whether its :authority is valid. Valid (every ordinary client): the raw socket goes to
 *   grpc-js as before, with no cost after the first request.
 * - Invalid: `AuthorityFixingConnection` stands between the socket and grpc-js for the life of
 *   the connection. Server-to-client bytes pass unchanged; client-to-server bytes pass unchanged
 *   except header blocks, which `ClientHeaderTranscoder` decodes in order with the connection's
 *   HPACK state and re-encodes as literals with the :authority cut to host:port.
 *
 * grpc-go (etcdctl) sends no request before the server's SETTINGS arrive, and the server does not
 * exist for the connection until the sniff decides. So when the client has sent only its preface
 * and settings, the listener answers with a SETTINGS frame of its own (defaults and --max-concurrent-streams, which
 * the server's real SETTINGS then amend), and the client's ACK of it is taken out of the bytes the
 * server sees: the server never sent that SETTINGS, and nghttp2 treats an unexpected ACK as a
 * connection error.
 */
import type net from 'node:net';
import { Duplex } from 'node:stream';
import {
  CLIENT_PREFACE, DEFAULT_MAX_FRAME_BYTES, FRAME_HEADER_BYTES, FrameFlag, FrameType, headerBlockFrames, headersFragment, readFrameHeader,
  type FrameHeader,
} from './frames.js';
import { HpackDecoder, encodeLiteralBlock, type HeaderField } from './hpack.js';

/** A client byte stream this module will not interpret further: the connection is closed. */
export class H2ProtocolError extends Error {
  readonly code = 'PROTOCOL_ERROR';
}

/** A header block larger than this (all its frames together) ends the connection. */
export const MAX_HEADER_BLOCK_BYTES = 256 * 1024;

/** True for an :authority nghttp2 would refuse in the way etcdctl 3.4 gets it wrong. */
export function authorityNeedsFix(authority: string): boolean {
  return authority.includes('://') || authority.includes('/');
}

/** `http://127.0.0.1:2379/x` → `127.0.0.1:2379`: without the scheme and anything from the first `/`. */
export function fixedAuthority(authority: string): string {
  const schemeEnd = authority.indexOf('://');
  const rest = schemeEnd === -1 ? authority : authority.slice(schemeEnd + 3);
  const pathStart = rest.indexOf('/');
  return pathStart === -1 ? rest : rest.slice(0, pathStart);
}

export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

export interface AuthoritySniff {
  /**
   * `more`: keep buffering. `valid` / `invalid`: the first request's :authority, and the ACK of
   * our SETTINGS (if we sent one) has been found. `unreadable`: frames this module does not
   * expect before a first request, or a block it cannot decode: stop looking.
   */
  readonly state: 'more' | 'valid' | 'invalid' | 'unreadable';
  /** Where the client's ACK of the listener's SETTINGS lies in the buffered bytes, once found. */
  readonly settingsAck: ByteRange | null;
  /** The buffered bytes end on a frame boundary outside any header block: the client may be waiting for the server. */
  readonly idle: boolean;
}

interface Walk {
  fragments: Uint8Array[];
  blockBytes: number;
  blockStreamId: number;
  /** The first block's :authority verdict once decoded. */
  verdict: 'valid' | 'invalid' | null;
  settingsAck: ByteRange | null;
}

/**
 * Reads `head` (everything a client has sent so far, preface included) up to its first complete
 * header block. `settingsSent`: the listener has sent its early SETTINGS (frames.ts `settingsFrame`), so a verdict also
 * waits for the client's ACK of it.
 */
export function sniffAuthority(head: Buffer, settingsSent: boolean): AuthoritySniff {
  if (head.length < CLIENT_PREFACE.length) return { state: 'more', settingsAck: null, idle: false };
  if (!head.subarray(0, CLIENT_PREFACE.length).equals(CLIENT_PREFACE)) return { state: 'unreadable', settingsAck: null, idle: false };
  const walk: Walk = { fragments: [], blockBytes: 0, blockStreamId: 0, verdict: null, settingsAck: null };
  let offset = CLIENT_PREFACE.length;
  for (;;) {
    const header = readFrameHeader(head, offset);
    if (!header || head.length - offset - FRAME_HEADER_BYTES < header.payloadBytes) break;
    const payload = head.subarray(offset + FRAME_HEADER_BYTES, offset + FRAME_HEADER_BYTES + header.payloadBytes);
    if (settingsSent && !walk.settingsAck && header.type === FrameType.SETTINGS && header.flags & FrameFlag.ACK) {
      walk.settingsAck = { start: offset, end: offset + FRAME_HEADER_BYTES + header.payloadBytes };
    } else if (!walk.verdict && !sniffFrame(walk, header, payload)) {
      return { state: 'unreadable', settingsAck: walk.settingsAck, idle: false };
    }
    offset += FRAME_HEADER_BYTES + header.payloadBytes;
  }
  if (walk.verdict && (!settingsSent || walk.settingsAck)) return { state: walk.verdict, settingsAck: walk.settingsAck, idle: false };
  const idle = offset === head.length && walk.fragments.length === 0 && !walk.verdict;
  return { state: 'more', settingsAck: walk.settingsAck, idle };
}

/** Takes one frame before the verdict; false when the connection does not look like one to interpret. */
function sniffFrame(walk: Walk, header: FrameHeader, payload: Uint8Array): boolean {
  if (header.payloadBytes > DEFAULT_MAX_FRAME_BYTES) return false;
  if (walk.fragments.length > 0) {
    if (header.type !== FrameType.CONTINUATION || header.streamId !== walk.blockStreamId) return false;
    walk.fragments.push(payload);
  } else if (header.type === FrameType.HEADERS) {
    const fragment = headersFragment(header.flags, payload);
    if (!fragment) return false;
    walk.fragments.push(fragment);
    walk.blockStreamId = header.streamId;
  } else {
    // Before its first request a client sends its settings, window updates and perhaps priorities.
    return header.type === FrameType.SETTINGS || header.type === FrameType.WINDOW_UPDATE || header.type === FrameType.PRIORITY;
  }
  walk.blockBytes += payload.length;
  if (walk.blockBytes > MAX_HEADER_BLOCK_BYTES) return false;
  if ((header.flags & FrameFlag.END_HEADERS) === 0) return true;
  let fields: HeaderField[];
  try {
    fields = new HpackDecoder().decode(Buffer.concat(walk.fragments));
  } catch (err) {
    if ((err as { code?: unknown }).code === 'COMPRESSION_ERROR') return false;
    throw err;
  }
  const authority = fields.find((f) => f.name === ':authority');
  walk.verdict = authority && authorityNeedsFix(authority.value) ? 'invalid' : 'valid';
  return true;
}

interface OpenBlock {
  readonly streamId: number;
  readonly endStream: boolean;
  readonly fragments: Uint8Array[];
  bytes: number;
}

/**
 * Client-to-server bytes of one connection, from its first byte: passes everything through but
 * header blocks, which it re-encodes (see the module comment). Frames other than HEADERS,
 * CONTINUATION and SETTINGS are streamed as they arrive, never held whole.
 */
export class ClientHeaderTranscoder {
  private readonly decoder = new HpackDecoder();
  private pending: Buffer = Buffer.alloc(0);
  private prefaceBytesLeft = CLIENT_PREFACE.length;
  /** Payload bytes of a passed-through frame still to come. */
  private passBytesLeft = 0;
  private block: OpenBlock | null = null;

  /** `settingsAcksToDrop`: client SETTINGS ACKs answering SETTINGS the server never sent. */
  constructor(private settingsAcksToDrop = 0) {}

  /** The bytes to forward for `chunk`; throws `H2ProtocolError` or `HpackError` on a stream it cannot follow. */
  push(chunk: Buffer): Buffer[] {
    const data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: Buffer[] = [];
    let offset = 0;
    while (offset < data.length) {
      if (this.prefaceBytesLeft > 0 || this.passBytesLeft > 0) {
        const take = Math.min(data.length - offset, this.prefaceBytesLeft || this.passBytesLeft);
        out.push(data.subarray(offset, offset + take));
        if (this.prefaceBytesLeft > 0) this.prefaceBytesLeft -= take;
        else this.passBytesLeft -= take;
        offset += take;
        continue;
      }
      const header = readFrameHeader(data, offset);
      if (!header) break;
      if (!this.holdsWhole(header)) {
        if (this.block) throw new H2ProtocolError('a frame other than CONTINUATION inside a header block');
        out.push(data.subarray(offset, offset + FRAME_HEADER_BYTES));
        this.passBytesLeft = header.payloadBytes;
        offset += FRAME_HEADER_BYTES;
        continue;
      }
      if (header.payloadBytes > DEFAULT_MAX_FRAME_BYTES) throw new H2ProtocolError('frame larger than SETTINGS_MAX_FRAME_SIZE');
      const end = offset + FRAME_HEADER_BYTES + header.payloadBytes;
      if (end > data.length) break;
      out.push(...this.wholeFrame(header, data.subarray(offset + FRAME_HEADER_BYTES, end), data.subarray(offset, end)));
      offset = end;
    }
    // Copied: a subarray would pin the whole chunk until the frame completes.
    this.pending = Buffer.from(data.subarray(offset));
    return out;
  }

  private holdsWhole(header: FrameHeader): boolean {
    if (header.type === FrameType.HEADERS || header.type === FrameType.CONTINUATION) return true;
    return header.type === FrameType.SETTINGS && this.settingsAcksToDrop > 0;
  }

  private wholeFrame(header: FrameHeader, payload: Uint8Array, raw: Buffer): Buffer[] {
    if (header.type === FrameType.SETTINGS) {
      if ((header.flags & FrameFlag.ACK) === 0) return [raw];
      this.settingsAcksToDrop--;
      return [];
    }
    if (header.type === FrameType.HEADERS) {
      if (this.block) throw new H2ProtocolError('HEADERS inside a header block');
      const fragment = headersFragment(header.flags, payload);
      if (!fragment) throw new H2ProtocolError('HEADERS padding or priority longer than the frame');
      this.block = { streamId: header.streamId, endStream: (header.flags & FrameFlag.END_STREAM) !== 0, fragments: [], bytes: 0 };
      return this.addFragment(header, fragment);
    }
    if (!this.block || this.block.streamId !== header.streamId) throw new H2ProtocolError('CONTINUATION outside its header block');
    return this.addFragment(header, payload);
  }

  private addFragment(header: FrameHeader, fragment: Uint8Array): Buffer[] {
    const block = this.block!;
    block.fragments.push(Buffer.from(fragment));
    block.bytes += fragment.length;
    if (block.bytes > MAX_HEADER_BLOCK_BYTES) throw new H2ProtocolError('header block too large');
    if ((header.flags & FrameFlag.END_HEADERS) === 0) return [];
    this.block = null;
    const fields = this.decoder.decode(Buffer.concat(block.fragments)).map((field) =>
      field.name === ':authority' ? { ...field, value: fixedAuthority(field.value) } : field,
    );
    return headerBlockFrames(block.streamId, encodeLiteralBlock(fields), block.endStream);
  }
}

/**
 * The stream grpc-js gets instead of the socket of a connection whose header blocks need
 * rewriting. Pipe semantics both ways: the socket is paused while grpc-js's side is full, and
 * grpc-js's writes complete when the socket takes them; an end, an error or a close on either
 * side reaches the other. Node's HTTP/2 session wraps any stream that is not a native socket in
 * its own JSStreamSocket, which reports no peer address: grpc-js's `getPeer()` says `unknown` on
 * these connections (Corvid does not use it).
 */
export class AuthorityFixingConnection extends Duplex {
  private readonly transcoder: ClientHeaderTranscoder;

  /** `buffered`: what the listener already read from `socket`, from the preface on. */
  constructor(private readonly socket: net.Socket, buffered: Buffer, settingsAcksToDrop: number) {
    super();
    this.transcoder = new ClientHeaderTranscoder(settingsAcksToDrop);
    socket.on('data', (chunk: Buffer) => this.fromClient(chunk));
    socket.on('end', () => this.push(null));
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => this.destroy());
    socket.pause();
    this.fromClient(buffered);
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    if (this.socket.write(chunk)) callback();
    else this.socket.once('drain', () => callback());
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (err?: Error | null) => void): void {
    this.socket.cork();
    let flowing = true;
    for (const { chunk } of chunks) flowing = this.socket.write(chunk);
    this.socket.uncork();
    if (flowing) callback();
    else this.socket.once('drain', () => callback());
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.socket.end(() => callback());
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.socket.destroy();
    callback(err);
  }

  private fromClient(chunk: Buffer): void {
    let forward: Buffer[];
    try {
      forward = this.transcoder.push(chunk);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code !== 'PROTOCOL_ERROR' && code !== 'COMPRESSION_ERROR') throw err;
      this.destroy(err as Error);
      return;
    }
    let wantsMore = true;
    for (const bytes of forward) wantsMore = this.push(bytes);
    if (!wantsMore) this.socket.pause();
  }
}
