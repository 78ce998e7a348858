/**
 * Reads the waiter key of a log entry — `corvidpb.InternalRequest.header.{id, memberId}` — without
 * decoding the request itself. ts-proto writes fields in declaration order and `header` (field 100)
 * is declared first, so in practice the scan stops at the first field; other layouts (any field
 * order) are still read correctly, just more slowly.
 */
import { corvidpb } from '@corvid/proto';

export interface EntryHeader {
  readonly id: bigint;
  readonly memberId: bigint;
}

const HEADER_FIELD = 100;
const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

/** The header of an InternalRequest entry, or null when the data has none (or is not one). */
export function readEntryHeader(data: Uint8Array): EntryHeader | null {
  let pos = 0;
  while (pos < data.length) {
    const tag = readVarint(data, pos);
    if (tag === null) return null;
    pos = tag.next;
    const field = Math.floor(tag.value / 8);
    const wire = tag.value % 8;
    if (wire === WIRE_VARINT) {
      const v = readVarint(data, pos);
      if (v === null) return null;
      pos = v.next;
    } else if (wire === WIRE_I64) {
      pos += 8;
    } else if (wire === WIRE_I32) {
      pos += 4;
    } else if (wire === WIRE_LEN) {
      const len = readVarint(data, pos);
      if (len === null || len.next + len.value > data.length) return null;
      if (field === HEADER_FIELD) {
        const header = corvidpb.RequestHeader.decode(data.subarray(len.next, len.next + len.value));
        return { id: header.id, memberId: header.memberId };
      }
      pos = len.next + len.value;
    } else {
      return null;
    }
  }
  return null;
}

/** A varint of at most 7 bytes (enough for tags and lengths here); null if truncated or longer. */
function readVarint(data: Uint8Array, at: number): { value: number; next: number } | null {
  let value = 0;
  let scale = 1;
  for (let i = at; i < data.length && i < at + 7; i++) {
    const b = data[i] as number;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return { value, next: i + 1 };
    scale *= 128;
  }
  return null;
}
