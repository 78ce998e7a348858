/** Byte-string helpers. Keys and values are Uint8Array compared by bytes, never as strings. */

/** Lexicographic byte order, as Go's bytes.Compare. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}
