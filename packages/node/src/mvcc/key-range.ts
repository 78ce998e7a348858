/**
 * The key interval of a request, as etcd reads `key` and `range_end`: no range_end is the single
 * key; range_end "\0" is every key >= key; otherwise [key, range_end). An interval whose end is
 * not after its start is empty. Keys are bytes, compared with Buffer.compare.
 */
import { compareBytes } from '../util/bytes.js';

export interface KeyRange {
  readonly start: Buffer;
  /** Exclusive end; null = unbounded. For a single key, `start + "\0"`. */
  readonly end: Buffer | null;
  readonly single: boolean;
  readonly empty: boolean;
}

const ZERO = Buffer.from([0]);

export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function keyRange(key: Uint8Array, rangeEnd: Uint8Array): KeyRange {
  const start = toBuffer(key);
  if (rangeEnd.length === 0) {
    return { start, end: Buffer.concat([start, ZERO]), single: true, empty: start.length === 0 };
  }
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return { start, end: null, single: false, empty: false };
  const end = toBuffer(rangeEnd);
  return { start, end, single: false, empty: compareBytes(end, start) <= 0 };
}

/** True when `key` lies in the interval. */
export function inKeyRange(range: KeyRange, key: Uint8Array): boolean {
  if (range.empty || compareBytes(key, range.start) < 0) return false;
  return range.end === null || compareBytes(key, range.end) < 0;
}
