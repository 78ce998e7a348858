/**
 * Goal: passwords are stored only as salted scrypt hashes that verify the right password and nothing else.
 * Method: hash and verify real passwords; malformed stored values.
 */
import { describe, expect, it } from '@jest/globals';
import { hashPassword, verifyPassword } from '../../src/auth/index.js';

describe('password hashing', () => {
  it('verifies the password it hashed and refuses others', async () => {
    const stored = await hashPassword('s3cret');
    expect(stored).toMatch(/^scrypt\$14\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(stored).not.toContain('s3cret');
    await expect(verifyPassword('s3cret', stored)).resolves.toBe(true);
    await expect(verifyPassword('s3cret ', stored)).resolves.toBe(false);
    await expect(verifyPassword('', stored)).resolves.toBe(false);
  });

  it('salts every hash', async () => {
    expect(await hashPassword('same')).not.toEqual(await hashPassword('same'));
  });

  it('matches nothing against an empty or malformed hash', async () => {
    for (const stored of ['', 'plain', 'scrypt$14$8$1$c2FsdA==$', 'scrypt$99$8$1$c2FsdA==$a2V5', 'bcrypt$10$x']) {
      await expect(verifyPassword('x', stored)).resolves.toBe(false);
    }
  });
});
