/**
 * The few pieces of HTTP/2 framing (RFC 9113 §4, §6) the client listener needs to read a client's
 * header blocks off the wire and to write replacement ones: the connection preface, the 9-byte
 * frame header, the HEADERS payload layout (PADDED, PRIORITY) and the splitting of a header block
 * into HEADERS + CONTINUATION frames.
 */

/** Every client connection opens with these 24 octets (RFC 9113 §3.4). */
export const CLIENT_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export const FRAME_HEADER_BYTES = 9;

/**
 * SETTINGS_MAX_FRAME_SIZE's initial value. Node's HTTP/2 server (and so grpc-js) keeps it, so the
 * frames we write to it never exceed it.
 */
export const DEFAULT_MAX_FRAME_BYTES = 16_384;

export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

export const FrameFlag = {
  END_STREAM: 0x1,
  /** SETTINGS and PING only. */
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

export interface FrameHeader {
  readonly payloadBytes: number;
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
}

/** The frame header at `offset`, or null when fewer than 9 bytes are there. */
export function readFrameHeader(buf: Uint8Array, offset: number): FrameHeader | null {
  if (buf.length - offset < FRAME_HEADER_BYTES) return null;
  return {
    payloadBytes: (buf[offset]! << 16) | (buf[offset + 1]! << 8) | buf[offset + 2]!,
    type: buf[offset + 3]!,
    flags: buf[offset + 4]!,
    // The reserved top bit is ignored on receipt (RFC 9113 §4.1).
    streamId: ((buf[offset + 5]! & 0x7f) << 24) | (buf[offset + 6]! << 16) | (buf[offset + 7]! << 8) | buf[offset + 8]!,
  };
}

export function writeFrameHeader(header: FrameHeader): Buffer {
  const out = Buffer.alloc(FRAME_HEADER_BYTES);
  out.writeUIntBE(header.payloadBytes, 0, 3);
  out[3] = header.type;
  out[4] = header.flags;
  out.writeUInt32BE(header.streamId & 0x7fffffff, 5);
  return out;
}

/** SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113 §6.5.2). */
const SETTINGS_MAX_CONCURRENT_STREAMS = 0x3;

/** A server SETTINGS frame: empty, or announcing a stream limit (undefined: the default, no limit). */
export function settingsFrame(maxConcurrentStreams?: number): Buffer {
  if (maxConcurrentStreams === undefined) return writeFrameHeader({ payloadBytes: 0, type: FrameType.SETTINGS, flags: 0, streamId: 0 });
  const payload = Buffer.alloc(6);
  payload.writeUInt16BE(SETTINGS_MAX_CONCURRENT_STREAMS, 0);
  payload.writeUInt32BE(maxConcurrentStreams, 2);
  return Buffer.concat([writeFrameHeader({ payloadBytes: payload.length, type: FrameType.SETTINGS, flags: 0, streamId: 0 }), payload]);
}

/**
 * The header block fragment inside a HEADERS frame's payload, without the pad length, the
 * priority fields and the padding; null when the payload is too short for what its flags announce
 * (a PROTOCOL_ERROR the real server should see, so callers stop interpreting the connection).
 */
export function headersFragment(flags: number, payload: Uint8Array): Uint8Array | null {
  let start = 0;
  let end = payload.length;
  if (flags & FrameFlag.PADDED) {
    if (payload.length < 1) return null;
    end -= payload[0]!;
    start += 1;
  }
  if (flags & FrameFlag.PRIORITY) start += 5; // exclusive bit + stream dependency (4), weight (1)
  return start <= end ? payload.subarray(start, end) : null;
}

/**
 * One header block as a HEADERS frame, followed by CONTINUATION frames when it is larger than
 * `maxFrameBytes`; END_HEADERS on the last, `endStream` carried on the HEADERS frame. No padding,
 * no priority.
 */
export function headerBlockFrames(streamId: number, block: Uint8Array, endStream: boolean, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): Buffer[] {
  const out: Buffer[] = [];
  let offset = 0;
  do {
    const piece = block.subarray(offset, offset + maxFrameBytes);
    const first = offset === 0;
    offset += piece.length;
    const last = offset >= block.length;
    const flags = (last ? FrameFlag.END_HEADERS : 0) | (first && endStream ? FrameFlag.END_STREAM : 0);
    out.push(writeFrameHeader({ payloadBytes: piece.length, type: first ? FrameType.HEADERS : FrameType.CONTINUATION, flags, streamId }));
    out.push(Buffer.from(piece.buffer, piece.byteOffset, piece.length));
  } while (offset < block.length);
  return out;
}
