/**
 * Auth tokens, as etcd 3.4's `--auth-token` providers:
 * - `simple` (default): `<16 random letters>.<raft index>`. The proposing member draws the letters;
 *   every member learns the token when it applies the Authenticate entry, and keeps it in memory
 *   only (a restart forgets it; clients authenticate again). A token lives `--auth-token-ttl`
 *   seconds (300) after its last use: each use renews it, as etcd's simpleTokenTTLKeeper.
 *   Deleting a user or changing its password drops its tokens; disabling auth drops them all.
 * - `jwt` (jwt.ts): signed, self-contained, carrying the user and the auth revision it was issued
 *   at; nothing is kept.
 * A token carries the auth revision its check is made at: a simple token the current one, a JWT
 * the one it was issued at (so any later auth change makes it stale: ErrAuthOldRevision).
 */
import { randomInt } from 'node:crypto';

export interface AuthInfo {
  readonly username: string;
  /** The auth revision the request is checked at; 0 only for "no user". */
  readonly revision: number;
}

export interface TokenProvider {
  readonly kind: 'simple' | 'jwt';
  /** The user and revision a token stands for, or undefined if it is unknown, expired or malformed. */
  info(token: string, currentRevision: number): AuthInfo | undefined;
  /** Made on the proposing member before Authenticate is proposed (simple: the random prefix; jwt: the signed token). */
  prepare(username: string, revision: number, nowMs: number): { simpleToken: string; token: string };
  /** Called by the apply of Authenticate on every member; returns the token the client gets. */
  assign(username: string, prepared: { simpleToken: string; token: string }, index: number): string;
  /** A user was deleted or its password changed: its tokens no longer work. */
  invalidateUser(username: string): void;
  /** Auth was disabled: no token works any more. */
  invalidateAll(): void;
  /** A simple token not known yet: the log index of the Authenticate entry it names. */
  pendingIndex?(token: string): number | undefined;
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
/** etcd's defaultSimpleTokenLength. */
const SIMPLE_TOKEN_LETTERS = 16;
/** etcd's default --auth-token-ttl, in seconds. */
export const DEFAULT_AUTH_TOKEN_TTL_SECONDS = 300;

export interface SimpleTokenOptions {
  readonly ttlMs: number;
  /** Monotonic milliseconds (the member's clock). */
  readonly nowMs: () => number;
}

export class SimpleTokens implements TokenProvider {
  readonly kind = 'simple';
  /** token → holder and expiry; entries past their expiry are dropped on sight and at each assign. */
  private readonly tokens = new Map<string, { username: string; expiresAtMs: number }>();

  constructor(private readonly options: SimpleTokenOptions) {}

  info(token: string, currentRevision: number): AuthInfo | undefined {
    const entry = this.tokens.get(token);
    if (entry === undefined) return undefined;
    const now = this.options.nowMs();
    if (entry.expiresAtMs <= now) {
      this.tokens.delete(token);
      return undefined;
    }
    entry.expiresAtMs = now + this.options.ttlMs;
    return { username: entry.username, revision: currentRevision };
  }

  prepare(): { simpleToken: string; token: string } {
    let prefix = '';
    for (let i = 0; i < SIMPLE_TOKEN_LETTERS; i++) prefix += LETTERS[randomInt(LETTERS.length)];
    return { simpleToken: prefix, token: '' };
  }

  assign(username: string, prepared: { simpleToken: string }, index: number): string {
    const token = `${prepared.simpleToken}.${index}`;
    const now = this.options.nowMs();
    for (const [t, e] of this.tokens) if (e.expiresAtMs <= now) this.tokens.delete(t);
    this.tokens.set(token, { username, expiresAtMs: now + this.options.ttlMs });
    return token;
  }

  invalidateUser(username: string): void {
    for (const [t, e] of this.tokens) if (e.username === username) this.tokens.delete(t);
  }

  invalidateAll(): void {
    this.tokens.clear();
  }

  pendingIndex(token: string): number | undefined {
    if (this.tokens.has(token)) return undefined;
    const match = /^[a-zA-Z]{16}\.(\d+)$/.exec(token);
    return match === null ? undefined : Number(match[1]);
  }

  /** How many tokens are held (for tests and metrics). */
  size(): number {
    return this.tokens.size;
  }
}
