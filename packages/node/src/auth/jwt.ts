/**
 * `--auth-token jwt,pub-key=<file>,priv-key=<file>,sign-method=<alg>[,ttl=<duration>]`, as etcd
 * 3.4's tokenJWT: a JWT whose claims are {exp, revision, username} (jwt-go's MapClaims, keys in
 * Go's sorted order), signed with RS256/384/512, PS256/384/512 or ES256/384/512 by Node's crypto.
 * A token is valid while its signature checks with the public key and `exp` is in the future;
 * it names the user and the auth revision it was issued at, so any later auth change makes it
 * stale (AuthOldRevision) and clients authenticate again. Nothing is kept per token: a JWT works
 * on every member and across restarts, and invalidation on user delete/password change is not
 * possible (as in etcd).
 */
import { constants, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AuthInfo, TokenProvider } from './tokens.js';

/** etcd 3.4's default JWT lifetime. */
export const DEFAULT_JWT_TTL_MS = 5 * 60 * 1000;

type Family = 'RS' | 'PS' | 'ES';
const ALGORITHMS: Readonly<Record<string, { family: Family; hash: string }>> = {
  RS256: { family: 'RS', hash: 'sha256' }, RS384: { family: 'RS', hash: 'sha384' }, RS512: { family: 'RS', hash: 'sha512' },
  PS256: { family: 'PS', hash: 'sha256' }, PS384: { family: 'PS', hash: 'sha384' }, PS512: { family: 'PS', hash: 'sha512' },
  ES256: { family: 'ES', hash: 'sha256' }, ES384: { family: 'ES', hash: 'sha384' }, ES512: { family: 'ES', hash: 'sha512' },
};

export interface JwtOptions {
  readonly signMethod: string;
  readonly publicKeyPem: string;
  /** Absent: this member verifies tokens but cannot issue them. */
  readonly privateKeyPem?: string;
  readonly ttlMs: number;
  /** Wall-clock milliseconds: `exp` is a wall-clock time shared by all members. */
  readonly nowMs: () => number;
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

export class JwtTokens implements TokenProvider {
  readonly kind = 'jwt';
  private readonly alg: { family: Family; hash: string };
  private readonly publicKey: KeyObject;
  private readonly privateKey: KeyObject | undefined;

  constructor(private readonly options: JwtOptions) {
    const alg = ALGORITHMS[options.signMethod];
    if (alg === undefined) throw new Error(`unsupported JWT sign-method ${JSON.stringify(options.signMethod)}`);
    this.alg = alg;
    this.publicKey = createPublicKey(options.publicKeyPem);
    this.privateKey = options.privateKeyPem === undefined ? undefined : createPrivateKey(options.privateKeyPem);
  }

  private signOptions(key: KeyObject): Parameters<typeof sign>[2] {
    if (this.alg.family === 'PS') return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
    if (this.alg.family === 'ES') return { key, dsaEncoding: 'ieee-p1363' };
    return key;
  }

  info(token: string): AuthInfo | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const [head, body, signature] = parts as [string, string, string];
    let header: { alg?: unknown };
    let claims: { exp?: unknown; revision?: unknown; username?: unknown };
    try {
      header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8')) as typeof header;
      claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as typeof claims;
    } catch {
      return undefined; // not JSON: not a token of ours
    }
    if (header.alg !== this.options.signMethod) return undefined;
    const signed = Buffer.from(`${head}.${body}`);
    const verifyKey = this.signOptions(this.publicKey) as Parameters<typeof verify>[2];
    if (!verify(this.alg.hash, signed, verifyKey, Buffer.from(signature, 'base64url'))) return undefined;
    if (typeof claims.exp === 'number' && claims.exp * 1000 <= this.options.nowMs()) return undefined;
    if (typeof claims.username !== 'string' || typeof claims.revision !== 'number') return undefined;
    return { username: claims.username, revision: claims.revision };
  }

  prepare(username: string, revision: number, nowMs: number): { simpleToken: string; token: string } {
    if (this.privateKey === undefined) throw new Error('no JWT private key: this member cannot issue tokens');
    const header = b64url(JSON.stringify({ alg: this.options.signMethod, typ: 'JWT' }));
    const exp = Math.floor((nowMs + this.options.ttlMs) / 1000);
    const body = b64url(JSON.stringify({ exp, revision, username }));
    const signature = sign(this.alg.hash, Buffer.from(`${header}.${body}`), this.signOptions(this.privateKey));
    return { simpleToken: '', token: `${header}.${body}.${b64url(signature)}` };
  }

  assign(_username: string, prepared: { token: string }): string {
    return prepared.token;
  }

  invalidateUser(): void {
    // A JWT cannot be recalled; it lapses at `exp` or at the next auth change (its revision).
  }

  invalidateAll(): void {
    // As above: after auth disable a JWT still names a user, which is harmless with auth off.
  }
}

/** Reads the PEM files named by a parsed `--auth-token jwt,...` option. */
export function readJwtKeys(options: ReadonlyMap<string, string>): { publicKeyPem: string; privateKeyPem?: string } {
  const pub = options.get('pub-key');
  if (pub === undefined) throw new Error('--auth-token jwt needs pub-key=<file>');
  const priv = options.get('priv-key');
  return { publicKeyPem: readFileSync(pub, 'utf8'), ...(priv === undefined ? {} : { privateKeyPem: readFileSync(priv, 'utf8') }) };
}
