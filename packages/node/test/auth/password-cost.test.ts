/**
 * Goal: --bcrypt-cost keeps bcrypt's meaning on scrypt — each step doubles the work, 10 is the stored default, out of
 * [4, 31] etcd's default applies — and hashes made at any cost verify.
 * Method: the parameter mapping as data, then real hashes at costs 4 and 12 through hashPassword/verifyPassword.
 */
import { expect, it } from '@jest/globals';
import { effectiveBcryptCost, hashPassword, scryptParamsOf, verifyPassword } from '../../src/auth/password.js';

it('maps each cost step onto a doubling of scrypt work, memory capped at N = 2^14', () => {
  expect([4, 9, 10, 11, 12, 20, 31].map(scryptParamsOf)).toEqual([
    { log2N: 8, p: 1 }, { log2N: 13, p: 1 }, { log2N: 14, p: 1 }, { log2N: 14, p: 2 }, { log2N: 14, p: 4 }, { log2N: 14, p: 1024 }, { log2N: 14, p: 1024 },
  ]);
});

it("uses etcd's default cost out of [4, 31]", () => {
  expect([3, 4, 31, 32, -1].map(effectiveBcryptCost)).toEqual([10, 4, 31, 10, 10]);
});

it('hashes at the given cost, and verifies whatever cost made the hash', async () => {
  const cheap = await hashPassword('secret', 4);
  const dear = await hashPassword('secret', 12);
  expect(cheap.startsWith('scrypt$8$8$1$')).toBe(true);
  expect(dear.startsWith('scrypt$14$8$4$')).toBe(true);
  expect(await verifyPassword('secret', cheap)).toBe(true);
  expect(await verifyPassword('secret', dear)).toBe(true);
  expect(await verifyPassword('wrong', dear)).toBe(false);
});
