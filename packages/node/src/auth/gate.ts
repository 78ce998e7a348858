/**
 * What the API asks of auth for each request, as etcd 3.4's EtcdServer does before serving or
 * proposing it: who the caller is (AuthInfoFromCtx: no token → no user; a token that is unknown,
 * expired or malformed → InvalidAuthToken, even when auth is off), and, for what is served
 * locally (ranges, watches, admin-only maintenance), whether they may. Writes are checked by the
 * applier with the caller this names (apply/apply-auth.ts).
 */
import { CorvidError } from '../errors/index.js';
import type { AuthStore } from './auth-store.js';
import type { AuthInfo, TokenProvider } from './tokens.js';

/** What the gate needs of the log to judge a simple token issued through an entry not applied here yet. */
export interface AppliedLog {
  appliedIndex(): number;
  /** Resolves once this member has applied everything committed when it was called (ReadIndex). */
  readBarrier(): Promise<void>;
}

export class AuthGate {
  constructor(
    private readonly store: AuthStore,
    readonly tokens: TokenProvider,
    private readonly log?: AppliedLog,
  ) {}

  /**
   * etcd's isValidSimpleToken: a simple token names the log index of its Authenticate entry; if this
   * member has not applied that far, the request waits for a ReadIndex barrier (after which the entry
   * is applied) before its token is judged. Undefined when there is nothing to wait for.
   */
  tokenPending(token: string | undefined): Promise<void> | undefined {
    if (token === undefined || this.log === undefined) return undefined;
    const index = this.tokens.pendingIndex?.(token);
    if (index === undefined || index <= this.log.appliedIndex()) return undefined;
    // A barrier that fails (no leader) leaves the token to be judged as it stands.
    return this.log.readBarrier().catch(() => undefined);
  }

  /**
   * The caller a request's token names; without a token, the CN of its verified client certificate
   * (etcd's AuthInfoFromTLS, checked at the current revision); else undefined (no user).
   */
  identify(token: string | undefined, commonName?: string): AuthInfo | undefined {
    if (token === undefined) return commonName === undefined ? undefined : { username: commonName, revision: this.store.revision() };
    const info = this.tokens.info(token, this.store.revision());
    if (info === undefined) throw new CorvidError('InvalidAuthToken');
    return info;
  }

  /** A range (or a watch, or a compare) on [key, rangeEnd): read permission. */
  checkRead(caller: AuthInfo | undefined, key: Uint8Array, rangeEnd: Uint8Array): void {
    this.store.checkRead(caller, key, rangeEnd);
  }

  /** Why a watch on [key, rangeEnd) may not be created, or undefined if it may (etcd's isWatchPermitted). */
  watchRefusal(token: string | undefined, commonName: string | undefined, key: Uint8Array, rangeEnd: Uint8Array): CorvidError | undefined {
    try {
      this.store.checkRead(this.identify(token, commonName), key, rangeEnd);
      return undefined;
    } catch (err) {
      if (err instanceof CorvidError) return err;
      throw err;
    }
  }

  /** Admin-only calls outside the log (Snapshot, Defragment, Hash, HashKV, membership changes). */
  checkAdmin(caller: AuthInfo | undefined): void {
    this.store.checkAdmin(caller);
  }

  /** etcd's doSerialize tail: a read served while the auth store changed under it is refused. */
  checkStillCurrent(caller: AuthInfo | undefined): void {
    if (caller !== undefined && caller.revision !== 0 && caller.revision !== this.store.revision()) throw new CorvidError('AuthOldRevision');
  }

  isEnabled(): boolean {
    return this.store.isEnabled();
  }

  /** Authenticate's check on this member; resolves with the auth revision it was made at. */
  checkPassword(name: string, password: string): Promise<number> {
    return this.store.checkPassword(name, password);
  }

  revision(): number {
    return this.store.revision();
  }
}
