/**
 * Password hashing with Node's scrypt (no native dependency). etcd hashes with bcrypt, cost 10
 * (about 60 ms per hash); scrypt with N = 2^14, r = 8, p = 1 (16 MiB of memory, tens of ms) is of
 * the same order and also memory-hard. The hash is made on the member that receives the request,
 * before proposing, so the log and every member's store hold only the hash (the apply stays cheap
 * and deterministic); Authenticate verifies it on the member that is asked, off the event loop.
 *
 * Stored form (authpb.User.password): `scrypt$<log2 N>$<r>$<p>$<salt b64>$<key b64>`, so the
 * parameters can change without breaking stored hashes.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

const LOG2_N = 14;
const BLOCK_SIZE = 8;
const PARALLELISM = 1;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** scrypt needs 128 · N · r bytes; Node's default cap (32 MiB) fits N = 2^14, r = 8 (16 MiB), with room. */
const MAX_MEMORY_BYTES = 64 * 1024 * 1024;

function derive(password: string, salt: Buffer, log2N: number, r: number, p: number, keyBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keyBytes, { N: 2 ** log2N, r, p, maxmem: MAX_MEMORY_BYTES }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** A fresh salted hash of `password`, in the stored form. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, LOG2_N, BLOCK_SIZE, PARALLELISM, KEY_BYTES);
  return ['scrypt', LOG2_N, BLOCK_SIZE, PARALLELISM, salt.toString('base64'), key.toString('base64')].join('$');
}

/** Whether `password` matches a stored hash; a malformed or empty hash matches nothing (as bcrypt's compare fails). */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [log2N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![log2N, r, p].every((v) => Number.isInteger(v) && v > 0) || log2N > 20 || r > 32 || p > 16) return false;
  const salt = Buffer.from(parts[4] as string, 'base64');
  const expected = Buffer.from(parts[5] as string, 'base64');
  if (expected.length === 0) return false;
  const key = await derive(password, salt, log2N, r, p, expected.length);
  return timingSafeEqual(key, expected);
}
