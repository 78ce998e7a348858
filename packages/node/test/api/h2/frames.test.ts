// Goal: the listener reads frame headers and HEADERS payloads as RFC 9113 lays them out, and
// writes a header block as frames the server accepts. Method: hand-built frames with padding,
// priority and continuation; a block larger than SETTINGS_MAX_FRAME_SIZE split and read back.
import {
  DEFAULT_MAX_FRAME_BYTES, FRAME_HEADER_BYTES, FrameFlag, FrameType, headerBlockFrames, headersFragment, readFrameHeader, writeFrameHeader,
} from '../../../src/api/h2/frames.js';

describe('frame headers', () => {
  it('round-trip, ignoring the reserved bit on read', () => {
    const header = { payloadBytes: 0x123456, type: FrameType.HEADERS, flags: FrameFlag.END_HEADERS | FrameFlag.PADDED, streamId: 0x7fffffff };
    const bytes = writeFrameHeader(header);
    expect(bytes.toString('hex')).toBe('123456010c7fffffff');
    expect(readFrameHeader(bytes, 0)).toEqual(header);
    bytes[5] = 0xff;
    expect(readFrameHeader(bytes, 0)?.streamId).toBe(0x7fffffff);
  });

  it('need all nine bytes, at any offset', () => {
    const bytes = Buffer.concat([Buffer.from('xx'), writeFrameHeader({ payloadBytes: 4, type: FrameType.PING, flags: 0, streamId: 0 })]);
    expect(readFrameHeader(bytes, 2)).toEqual({ payloadBytes: 4, type: FrameType.PING, flags: 0, streamId: 0 });
    expect(readFrameHeader(bytes.subarray(0, 10), 2)).toBeNull();
  });
});

describe('HEADERS payload', () => {
  const fragment = Buffer.from('8286', 'hex');

  it('is the fragment itself without flags', () => {
    expect(Buffer.from(headersFragment(FrameFlag.END_HEADERS, fragment)!)).toEqual(fragment);
  });

  it('drops the pad length and padding (PADDED)', () => {
    const payload = Buffer.concat([Buffer.from([3]), fragment, Buffer.alloc(3)]);
    expect(Buffer.from(headersFragment(FrameFlag.PADDED, payload)!)).toEqual(fragment);
  });

  it('drops the stream dependency and weight (PRIORITY), with padding too', () => {
    const priority = Buffer.from('800000030f', 'hex');
    expect(Buffer.from(headersFragment(FrameFlag.PRIORITY, Buffer.concat([priority, fragment]))!)).toEqual(fragment);
    const both = Buffer.concat([Buffer.from([2]), priority, fragment, Buffer.alloc(2)]);
    expect(Buffer.from(headersFragment(FrameFlag.PRIORITY | FrameFlag.PADDED, both)!)).toEqual(fragment);
  });

  it('is refused when padding or priority claim more than the payload', () => {
    expect(headersFragment(FrameFlag.PADDED, Buffer.from([5, 1, 2]))).toBeNull();
    expect(headersFragment(FrameFlag.PADDED, Buffer.alloc(0))).toBeNull();
    expect(headersFragment(FrameFlag.PRIORITY, Buffer.alloc(4))).toBeNull();
  });
});

describe('writing a header block', () => {
  function readAll(frames: Buffer[]): { type: number; flags: number; streamId: number; payload: Buffer }[] {
    const wire = Buffer.concat(frames);
    const out = [];
    for (let offset = 0; offset < wire.length; ) {
      const h = readFrameHeader(wire, offset)!;
      out.push({ type: h.type, flags: h.flags, streamId: h.streamId, payload: wire.subarray(offset + FRAME_HEADER_BYTES, offset + FRAME_HEADER_BYTES + h.payloadBytes) });
      offset += FRAME_HEADER_BYTES + h.payloadBytes;
    }
    return out;
  }

  it('uses one HEADERS frame when it fits, carrying END_STREAM', () => {
    const frames = readAll(headerBlockFrames(5, Buffer.from('abc'), true));
    expect(frames).toEqual([{ type: FrameType.HEADERS, flags: FrameFlag.END_HEADERS | FrameFlag.END_STREAM, streamId: 5, payload: Buffer.from('abc') }]);
  });

  it('continues past SETTINGS_MAX_FRAME_SIZE with CONTINUATION frames, END_HEADERS on the last', () => {
    const block = Buffer.alloc(2 * DEFAULT_MAX_FRAME_BYTES + 100, 7);
    const frames = readAll(headerBlockFrames(3, block, false));
    expect(frames.map((f) => [f.type, f.flags, f.payload.length, f.streamId])).toEqual([
      [FrameType.HEADERS, 0, DEFAULT_MAX_FRAME_BYTES, 3],
      [FrameType.CONTINUATION, 0, DEFAULT_MAX_FRAME_BYTES, 3],
      [FrameType.CONTINUATION, FrameFlag.END_HEADERS, 100, 3],
    ]);
    expect(Buffer.concat(frames.map((f) => f.payload))).toEqual(block);
  });

  it('writes an empty block as one empty HEADERS frame', () => {
    expect(readAll(headerBlockFrames(1, Buffer.alloc(0), false))).toEqual([{ type: FrameType.HEADERS, flags: FrameFlag.END_HEADERS, streamId: 1, payload: Buffer.alloc(0) }]);
  });
});
