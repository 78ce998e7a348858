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

/** etcd's bcrypt.DefaultCost, and the range it takes (out of it etcd warns and uses the default). */
export const DEFAULT_BCRYPT_COST = 10;
const MIN_BCRYPT_COST = 4;
const MAX_BCRYPT_COST = 31;
/** The largest parallelism verifyPassword takes: bcrypt cost 20 (scrypt's cost grows linearly in p). */
const MAX_PARALLELISM = 2 ** 10;

/**
 * --bcrypt-cost on scrypt: each step doubles the work, as bcrypt's. Below the default, N halves
 * (cost 4: N = 2^8, for tests); above it, p doubles at N = 2^14, so memory stays 16 MiB.
 * Costs above 20 (minutes per hash, days at 31) are capped at 20.
 */
export function scryptParamsOf(bcryptCost: number): { log2N: number; p: number } {
  const cost = Math.min(bcryptCost, 20);
  return cost <= DEFAULT_BCRYPT_COST ? { log2N: LOG2_N - (DEFAULT_BCRYPT_COST - cost), p: PARALLELISM } : { log2N: LOG2_N, p: 2 ** (cost - DEFAULT_BCRYPT_COST) };
}

/** The cost etcd uses for a --bcrypt-cost value: the default when out of [4, 31] (etcd warns then). */
export function effectiveBcryptCost(bcryptCost: number): number {
  return bcryptCost >= MIN_BCRYPT_COST && bcryptCost <= MAX_BCRYPT_COST ? bcryptCost : DEFAULT_BCRYPT_COST;
}

/** A fresh salted hash of `password`, in the stored form, at `bcryptCost` (checked by the caller). */
export async function hashPassword(password: string, bcryptCost: number = DEFAULT_BCRYPT_COST): Promise<string> {
  const { log2N, p } = scryptParamsOf(bcryptCost);
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, log2N, BLOCK_SIZE, p, KEY_BYTES);
  return ['scrypt', log2N, BLOCK_SIZE, p, salt.toString('base64'), key.toString('base64')].join('$');
}

/** Whether `password` matches a stored hash; a malformed or empty hash matches nothing (as bcrypt's compare fails). */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [log2N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![log2N, r, p].every((v) => Number.isInteger(v) && v > 0) || log2N > 20 || r > 32 || p > MAX_PARALLELISM) return false;
  const salt = Buffer.from(parts[4] as string, 'base64');
  const expected = Buffer.from(parts[5] as string, 'base64');
  if (expected.length === 0) return false;
  const key = await derive(password, salt, log2N, r, p, expected.length);
  return timingSafeEqual(key, expected);
}
