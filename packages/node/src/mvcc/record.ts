/**
 * The value stored in `live` and `history` for one version of a key (schema.ts):
 * `flags(1) create(8) mod(8) version(8) lease(8) value(...)`, integers big-endian. A tombstone
 * has flags bit 0 set, create = version = lease = 0 and no value. Fixed offsets keep decoding to a
 * few reads: no protobuf, no JSON, and the value is a view on the buffer LMDB gave us.
 */
import type { mvccpb } from '@corvid/proto';
import { assert } from '../errors/index.js';

export const RECORD_HEADER_BYTES = 33;
const FLAG_TOMBSTONE = 1;
const TWO_32 = 0x1_0000_0000;

/** One decoded version; revisions and version as numbers, lease as bigint (a 64-bit id). */
export interface KvRecord {
  readonly tombstone: boolean;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
  readonly lease: bigint;
  readonly value: Buffer;
}

function writeU64(out: Buffer, offset: number, value: number): void {
  out.writeUInt32BE(Math.floor(value / TWO_32), offset);
  out.writeUInt32BE(value >>> 0, offset + 4);
}

function readU64(bytes: Buffer, offset: number): number {
  return bytes.readUInt32BE(offset) * TWO_32 + bytes.readUInt32BE(offset + 4);
}

export function encodeRecord(
  createRevision: number,
  modRevision: number,
  version: number,
  lease: bigint,
  value: Uint8Array,
): Buffer {
  const out = Buffer.allocUnsafe(RECORD_HEADER_BYTES + value.length);
  out[0] = 0;
  writeU64(out, 1, createRevision);
  writeU64(out, 9, modRevision);
  writeU64(out, 17, version);
  out.writeBigInt64BE(lease, 25);
  out.set(value, RECORD_HEADER_BYTES);
  return out;
}

export function encodeTombstone(modRevision: number): Buffer {
  const out = Buffer.alloc(RECORD_HEADER_BYTES);
  out[0] = FLAG_TOMBSTONE;
  writeU64(out, 9, modRevision);
  return out;
}

export function isTombstoneRecord(bytes: Buffer): boolean {
  return ((bytes[0] as number) & FLAG_TOMBSTONE) !== 0;
}

/** Decodes a record; `value` is a view on `bytes` (copy it if `bytes` is lmdb's shared buffer). */
export function decodeRecord(bytes: Buffer): KvRecord {
  assert(bytes.length >= RECORD_HEADER_BYTES, 'record shorter than its header');
  return {
    tombstone: isTombstoneRecord(bytes),
    createRevision: readU64(bytes, 1),
    modRevision: readU64(bytes, 9),
    version: readU64(bytes, 17),
    lease: bytes.readBigInt64BE(25),
    value: bytes.subarray(RECORD_HEADER_BYTES),
  };
}

/** The wire KeyValue of a record; `keysOnly` leaves the value empty as etcd does. */
export function toKeyValue(key: Buffer, record: KvRecord, keysOnly: boolean): mvccpb.KeyValue {
  return {
    key,
    createRevision: BigInt(record.createRevision),
    modRevision: BigInt(record.modRevision),
    version: BigInt(record.version),
    value: keysOnly ? EMPTY : record.value,
    lease: record.lease,
  };
}

export const EMPTY: Buffer = Buffer.alloc(0);
