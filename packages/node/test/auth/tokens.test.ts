/**
 * Goal: tokens as etcd 3.4's providers: a simple token is `<16 letters>.<index>`, lives --auth-token-ttl after its
 * last use, and goes with its user or with auth disable; a JWT carries {exp, revision, username}, verifies with the
 * public key only, and is refused once tampered or expired; --auth-token options are parsed as etcd's.
 * Method: providers on an injected clock; keys from generateKeyPairSync.
 */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { createTokenProvider, JwtTokens, SimpleTokens } from '../../src/auth/index.js';

describe('simple tokens', () => {
  const make = (): { tokens: SimpleTokens; clock: { now: number } } => {
    const clock = { now: 1_000 };
    return { tokens: new SimpleTokens({ ttlMs: 300_000, nowMs: () => clock.now }), clock };
  };

  it('is a random prefix and the log index, known once assigned', () => {
    const { tokens } = make();
    const prepared = tokens.prepare();
    expect(prepared.simpleToken).toMatch(/^[a-zA-Z]{16}$/);
    const token = tokens.assign('alice', prepared, 42);
    expect(token).toBe(`${prepared.simpleToken}.42`);
    expect(tokens.info(token, 7)).toEqual({ username: 'alice', revision: 7 });
    expect(tokens.info('unknown.1', 7)).toBeUndefined();
  });

  it('expires ttl after its last use, each use renewing it', () => {
    const { tokens, clock } = make();
    const token = tokens.assign('alice', tokens.prepare(), 1);
    clock.now += 200_000;
    expect(tokens.info(token, 1)).toBeDefined();
    clock.now += 200_000;
    expect(tokens.info(token, 1)).toBeDefined();
    clock.now += 300_000;
    expect(tokens.info(token, 1)).toBeUndefined();
    expect(tokens.size()).toBe(0);
  });

  it("drops a user's tokens, or all of them", () => {
    const { tokens } = make();
    const a = tokens.assign('alice', tokens.prepare(), 1);
    const b = tokens.assign('bob', tokens.prepare(), 2);
    tokens.invalidateUser('alice');
    expect(tokens.info(a, 1)).toBeUndefined();
    expect(tokens.info(b, 1)).toBeDefined();
    tokens.invalidateAll();
    expect(tokens.info(b, 1)).toBeUndefined();
  });
});

describe('JWT tokens', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const pem = (k: { export(o: object): string | Buffer }, type: 'spki' | 'pkcs8'): string => k.export({ type, format: 'pem' }).toString();

  it.each([
    ['RS256', rsa],
    ['PS256', rsa],
    ['ES256', ec],
  ] as const)('%s: claims {exp, revision, username}, verified with the public key', (signMethod, pair) => {
    const clock = { now: 1_700_000_000_000 };
    const issuer = new JwtTokens({ signMethod, publicKeyPem: pem(pair.publicKey, 'spki'), privateKeyPem: pem(pair.privateKey, 'pkcs8'), ttlMs: 60_000, nowMs: () => clock.now });
    const verifier = new JwtTokens({ signMethod, publicKeyPem: pem(pair.publicKey, 'spki'), ttlMs: 60_000, nowMs: () => clock.now });
    const { token } = issuer.prepare('alice', 5, clock.now);
    const [head, body] = token.split('.');
    expect(JSON.parse(Buffer.from(head ?? '', 'base64url').toString())).toEqual({ alg: signMethod, typ: 'JWT' });
    expect(Buffer.from(body ?? '', 'base64url').toString()).toBe(`{"exp":${clock.now / 1000 + 60},"revision":5,"username":"alice"}`);
    expect(verifier.info(token)).toEqual({ username: 'alice', revision: 5 });
    expect(verifier.info(`${token.slice(0, -2)}xx`)).toBeUndefined();
    expect(verifier.info('a.b.c')).toBeUndefined();
    clock.now += 61_000;
    expect(verifier.info(token)).toBeUndefined();
  });

  it('cannot issue without a private key', () => {
    const verifier = new JwtTokens({ signMethod: 'RS256', publicKeyPem: pem(rsa.publicKey, 'spki'), ttlMs: 1, nowMs: () => 0 });
    expect(() => verifier.prepare('a', 1, 0)).toThrow(/private key/);
  });
});

describe('--auth-token', () => {
  const base = { authTokenTtlSeconds: 300, monotonicNowMs: () => 0, wallNowMs: () => 0 };
  it('builds simple by default and refuses unknown kinds and options', () => {
    expect(createTokenProvider({ ...base, authToken: 'simple' }).kind).toBe('simple');
    expect(() => createTokenProvider({ ...base, authToken: 'magic' })).toThrow('unknown token type: magic');
    expect(() => createTokenProvider({ ...base, authToken: 'jwt,nonsense' })).toThrow(/invalid --auth-token option/);
    expect(() => createTokenProvider({ ...base, authToken: 'jwt,sign-method=RS256' })).toThrow(/pub-key/);
  });
});
