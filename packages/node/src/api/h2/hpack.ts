/**
 * HPACK (RFC 7541) as far as the client listener needs it: a full decoder (static and dynamic
 * table, table size updates, integers, Huffman and plain string literals) to follow a client's
 * header blocks in order, and an encoder that writes only literals without indexing, so what it
 * writes leaves the receiver's dynamic table untouched and needs no encoder state.
 *
 * Names and values are latin1 strings: one char per octet, so any octets a client sends come back
 * out unchanged, and a string's `length` is its size in octets (RFC 7541 §4.1).
 */
import { HUFFMAN_CODES, HUFFMAN_CODE_LENGTHS_BITS } from './huffman-table.js';

export interface HeaderField {
  readonly name: string;
  readonly value: string;
  /** Sent as "never indexed" (RFC 7541 §6.2.3); an intermediary must forward it the same way. */
  readonly neverIndexed: boolean;
}

/** A header block that cannot be decoded: the HTTP/2 connection error COMPRESSION_ERROR. */
export class HpackError extends Error {
  readonly code = 'COMPRESSION_ERROR';
}

/** SETTINGS_HEADER_TABLE_SIZE's initial value, which Node's HTTP/2 server does not change. */
export const DEFAULT_HEADER_TABLE_BYTES = 4096;

/** Every dynamic table entry costs its name and value octets plus 32 (RFC 7541 §4.1). */
const ENTRY_OVERHEAD_BYTES = 32;

/** Integers past this are no header block's business and would lose precision soon after. */
const MAX_INTEGER = 0xffffffff;

/** RFC 7541 Appendix A; index 1 is STATIC_TABLE[0]. */
const STATIC_TABLE: readonly (readonly [string, string])[] = [
  [':authority', ''], [':method', 'GET'], [':method', 'POST'], [':path', '/'], [':path', '/index.html'],
  [':scheme', 'http'], [':scheme', 'https'], [':status', '200'], [':status', '204'], [':status', '206'],
  [':status', '304'], [':status', '400'], [':status', '404'], [':status', '500'], ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'], ['accept-language', ''], ['accept-ranges', ''], ['accept', ''],
  ['access-control-allow-origin', ''], ['age', ''], ['allow', ''], ['authorization', ''], ['cache-control', ''],
  ['content-disposition', ''], ['content-encoding', ''], ['content-language', ''], ['content-length', ''],
  ['content-location', ''], ['content-range', ''], ['content-type', ''], ['cookie', ''], ['date', ''], ['etag', ''],
  ['expect', ''], ['expires', ''], ['from', ''], ['host', ''], ['if-match', ''], ['if-modified-since', ''],
  ['if-none-match', ''], ['if-range', ''], ['if-unmodified-since', ''], ['last-modified', ''], ['link', ''],
  ['location', ''], ['max-forwards', ''], ['proxy-authenticate', ''], ['proxy-authorization', ''], ['range', ''],
  ['referer', ''], ['refresh', ''], ['retry-after', ''], ['server', ''], ['set-cookie', ''],
  ['strict-transport-security', ''], ['transfer-encoding', ''], ['user-agent', ''], ['vary', ''], ['via', ''],
  ['www-authenticate', ''],
];

/** A decoded integer and the offset just past it. */
export interface Decoded<T> {
  readonly value: T;
  readonly next: number;
}

/** RFC 7541 §5.1: an integer with an N-bit prefix starting in the low bits of `block[offset]`. */
export function decodeInteger(block: Uint8Array, offset: number, prefixBits: number): Decoded<number> {
  if (offset >= block.length) throw new HpackError('header block ends inside an integer');
  const max = (1 << prefixBits) - 1;
  let value = block[offset]! & max;
  let next = offset + 1;
  if (value < max) return { value, next };
  let factor = 1;
  for (;;) {
    if (next >= block.length) throw new HpackError('header block ends inside an integer');
    const byte = block[next++]!;
    value += (byte & 0x7f) * factor;
    if (value > MAX_INTEGER) throw new HpackError('integer overflows');
    if ((byte & 0x80) === 0) return { value, next };
    factor *= 128;
  }
}

/** RFC 7541 §5.1: `value` with an N-bit prefix; `highBits` are the representation's pattern bits. */
export function encodeInteger(value: number, prefixBits: number, highBits = 0): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [highBits | value];
  const out = [highBits | max];
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return out;
}

/** The Huffman code as a binary tree: child[2n] / child[2n+1] follow a 0 / 1 bit from node n. */
interface HuffmanTree {
  readonly child: Int32Array;
  /** The symbol a leaf decodes to, -1 on inner nodes. */
  readonly symbol: Int32Array;
}

const HUFFMAN_TREE: HuffmanTree = buildHuffmanTree();

function buildHuffmanTree(): HuffmanTree {
  const maxNodes = 2 * HUFFMAN_CODES.length;
  const child = new Int32Array(2 * maxNodes).fill(-1);
  const symbol = new Int32Array(maxNodes).fill(-1);
  let nodes = 1;
  HUFFMAN_CODES.forEach((code, sym) => {
    const bits = HUFFMAN_CODE_LENGTHS_BITS[sym]!;
    let node = 0;
    for (let i = bits - 1; i >= 0; i--) {
      const slot = 2 * node + ((code >>> i) & 1);
      if (child[slot] === -1) child[slot] = nodes++;
      node = child[slot]!;
    }
    symbol[node] = sym;
  });
  return { child, symbol };
}

/** RFC 7541 §5.2: padding is fewer than 8 bits, all ones (a prefix of EOS); EOS itself is an error. */
export function huffmanDecode(data: Uint8Array): Buffer {
  const { child, symbol } = HUFFMAN_TREE;
  const out: number[] = [];
  let node = 0;
  let bitsSinceSymbol = 0;
  let onlyOnesSinceSymbol = true;
  for (const byte of data) {
    for (let i = 7; i >= 0; i--) {
      const bit = (byte >>> i) & 1;
      node = child[2 * node + bit]!;
      if (node === -1) throw new HpackError('invalid Huffman code');
      bitsSinceSymbol++;
      onlyOnesSinceSymbol &&= bit === 1;
      const sym = symbol[node]!;
      if (sym === -1) continue;
      if (sym === 256) throw new HpackError('EOS in a Huffman-coded string');
      out.push(sym);
      node = 0;
      bitsSinceSymbol = 0;
      onlyOnesSinceSymbol = true;
    }
  }
  if (bitsSinceSymbol > 7 || !onlyOnesSinceSymbol) throw new HpackError('invalid Huffman padding');
  return Buffer.from(out);
}

function decodeString(block: Uint8Array, offset: number): Decoded<string> {
  const huffman = offset < block.length && (block[offset]! & 0x80) !== 0;
  const length = decodeInteger(block, offset, 7);
  const end = length.next + length.value;
  if (end > block.length) throw new HpackError('header block ends inside a string');
  const raw = block.subarray(length.next, end);
  const bytes = huffman ? huffmanDecode(raw) : Buffer.from(raw.buffer, raw.byteOffset, raw.length);
  return { value: bytes.toString('latin1'), next: end };
}

function encodeString(text: string): Buffer {
  const bytes = Buffer.from(text, 'latin1');
  return Buffer.concat([Buffer.from(encodeInteger(bytes.length, 7)), bytes]);
}

/**
 * Writes `fields` as literals without indexing (or never indexed, as they came), each with a
 * literal name and plain (non-Huffman) strings: the block decodes the same against any decoder
 * state and changes none.
 */
export function encodeLiteralBlock(fields: readonly HeaderField[]): Buffer {
  const parts: Buffer[] = [];
  for (const field of fields) {
    parts.push(Buffer.from([field.neverIndexed ? 0x10 : 0x00]), encodeString(field.name), encodeString(field.value));
  }
  return Buffer.concat(parts);
}

/**
 * The decoding side of one HTTP/2 connection's header compression context. Blocks must be
 * decoded in the order they were sent: each may add to or evict from the dynamic table.
 */
export class HpackDecoder {
  /** Newest first: dynamic index 62 is entries[0]. */
  private readonly entries: HeaderField[] = [];
  private entriesBytes = 0;
  /** The size the encoder last chose; never above `settingsTableBytes`. */
  private maxEntriesBytes: number;

  /** `settingsTableBytes`: the SETTINGS_HEADER_TABLE_SIZE the decoding side advertised. */
  constructor(private readonly settingsTableBytes = DEFAULT_HEADER_TABLE_BYTES) {
    this.maxEntriesBytes = settingsTableBytes;
  }

  /** The dynamic table, newest entry first. */
  get dynamicTable(): readonly HeaderField[] {
    return this.entries;
  }

  /** The dynamic table's size as RFC 7541 §4.1 counts it. */
  get dynamicTableBytes(): number {
    return this.entriesBytes;
  }

  decode(block: Uint8Array): HeaderField[] {
    const fields: HeaderField[] = [];
    let offset = 0;
    while (offset < block.length) {
      const byte = block[offset]!;
      if (byte & 0x80) {
        const index = decodeInteger(block, offset, 7);
        fields.push(this.lookup(index.value));
        offset = index.next;
      } else if ((byte & 0xe0) === 0x20) {
        // A size update may only open a block (RFC 7541 §4.2).
        if (fields.length > 0) throw new HpackError('dynamic table size update after a header field');
        const size = decodeInteger(block, offset, 5);
        if (size.value > this.settingsTableBytes) throw new HpackError('dynamic table size update above the limit');
        this.maxEntriesBytes = size.value;
        this.evictTo(this.maxEntriesBytes);
        offset = size.next;
      } else {
        const incremental = (byte & 0xc0) === 0x40;
        const literal = this.decodeLiteral(block, offset, incremental ? 6 : 4, (byte & 0xf0) === 0x10);
        if (incremental) this.insert(literal.value);
        fields.push(literal.value);
        offset = literal.next;
      }
    }
    return fields;
  }

  private decodeLiteral(block: Uint8Array, offset: number, prefixBits: number, neverIndexed: boolean): Decoded<HeaderField> {
    const index = decodeInteger(block, offset, prefixBits);
    let next = index.next;
    let name: string;
    if (index.value === 0) {
      const literalName = decodeString(block, next);
      name = literalName.value;
      next = literalName.next;
    } else {
      name = this.lookup(index.value).name;
    }
    const value = decodeString(block, next);
    return { value: { name, value: value.value, neverIndexed }, next: value.next };
  }

  private lookup(index: number): HeaderField {
    if (index === 0) throw new HpackError('header index 0');
    const fixed = STATIC_TABLE[index - 1];
    if (fixed) return { name: fixed[0], value: fixed[1], neverIndexed: false };
    const entry = this.entries[index - STATIC_TABLE.length - 1];
    if (!entry) throw new HpackError(`header index ${index} is past the dynamic table`);
    return { name: entry.name, value: entry.value, neverIndexed: false };
  }

  private insert(field: HeaderField): void {
    const bytes = field.name.length + field.value.length + ENTRY_OVERHEAD_BYTES;
    // An entry larger than the table empties it and is not added (RFC 7541 §4.4).
    this.evictTo(Math.max(0, this.maxEntriesBytes - bytes));
    if (bytes > this.maxEntriesBytes) return;
    this.entries.unshift({ name: field.name, value: field.value, neverIndexed: false });
    this.entriesBytes += bytes;
  }

  private evictTo(maxBytes: number): void {
    while (this.entriesBytes > maxBytes) {
      const oldest = this.entries.pop()!;
      this.entriesBytes -= oldest.name.length + oldest.value.length + ENTRY_OVERHEAD_BYTES;
    }
  }
}
