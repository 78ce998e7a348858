/**
 * etcdserverpb.Watch: one WatchStream per bidi call over the member's WatchableStore. Streams
 * opened with the `hasleader=true` metadata (clientv3.WithRequireLeader) are refused with
 * "etcdserver: no leader" when the member has no leader, and closed with it once the member has
 * had no leader for 3 checks in a row: the service checks `hasLeader` every `leaderCheckIntervalMs`
 * (the member passes its election timeout), as etcd's monitorLeader with maxNoLeaderCnt = 3, which
 * is "more conservative on canceling existing streams" than on refusing new ones.
 */
import { status, type ServiceError } from '@grpc/grpc-js';
import type { etcdserverpb } from '@corvid/proto';
import type { AuthGate } from '../auth/index.js';
import { CorvidError } from '../errors/index.js';
import type { KvStore } from '../mvcc/index.js';
import type { WatchableStore } from '../mvcc/watch/index.js';
import type { Logger } from '../util/logger.js';
import { goErrorText, peerCommonName, tokenOf } from './auth-caller.js';
import { toServiceError } from './errors.js';
import { checkRequestDecoded } from './grpc-refusals.js';
import type { MemberIdentity } from './header.js';
import { WatchStream, type WatchCall } from './watch-stream.js';

/** etcd's default --experimental-watch-progress-notify-interval. */
export const DEFAULT_PROGRESS_NOTIFY_INTERVAL_MS = 10 * 60 * 1000;
const PROGRESS_RETRY_MS = 100;
/** rpctypes.MetadataRequireLeaderKey / MetadataHasLeader. */
const REQUIRE_LEADER_KEY = 'hasleader';
const HAS_LEADER = 'true';
/** etcd's maxNoLeaderCnt: leaderless checks in a row before existing hasleader streams are closed. */
export const MAX_NO_LEADER_CHECKS = 3;

export interface WatchServiceDeps {
  readonly identity: MemberIdentity;
  readonly store: WatchableStore;
  readonly kv: KvStore;
  /** etcd's watch server splits at --max-request-bytes + 512 KiB: the member's gRPC receive limit. */
  readonly fragmentBytes: number;
  /** --experimental-watch-progress-notify-interval; 0 or unset: etcd's 10 minutes. */
  readonly progressNotifyIntervalMs?: number;
  readonly hasLeader: () => boolean;
  readonly leaderCheckIntervalMs: number;
  readonly logger: Logger;
  /** Each watch is created only if the stream's caller (its `token` metadata) may read its range. */
  readonly auth?: AuthGate;
}

export class WatchService {
  private readonly streams = new Set<WatchStream>();
  /** Streams that asked for a leader, with their calls, closed with NoLeader when it goes. */
  private readonly requireLeader = new Map<WatchStream, WatchCall>();
  private readonly timer: NodeJS.Timeout;
  private noLeaderChecks = 0;

  constructor(private readonly deps: WatchServiceDeps) {
    this.timer = setInterval(() => this.checkLeader(), deps.leaderCheckIntervalMs);
    this.timer.unref();
  }

  implementation(): etcdserverpb.WatchServer {
    return { watch: (call: WatchCall) => this.serve(call) };
  }

  /** One leader check: after MAX_NO_LEADER_CHECKS leaderless ones in a row, every `hasleader` stream is closed with NoLeader. */
  checkLeader(): void {
    this.noLeaderChecks = this.deps.hasLeader() ? 0 : this.noLeaderChecks + 1;
    if (this.noLeaderChecks < MAX_NO_LEADER_CHECKS) return;
    for (const [stream, call] of [...this.requireLeader]) this.fail(stream, call, new CorvidError('NoLeader'));
  }

  /** Stops the leader check and every stream's watchers (the server is shutting down). */
  close(): void {
    clearInterval(this.timer);
    for (const stream of [...this.streams]) stream.close();
    this.streams.clear();
    this.requireLeader.clear();
  }

  private serve(call: WatchCall): void {
    const wantsLeader = call.metadata.get(REQUIRE_LEADER_KEY)[0] === HAS_LEADER;
    if (wantsLeader && !this.deps.hasLeader()) {
      call.emit('error', toServiceError(new CorvidError('NoLeader')).error);
      return;
    }
    const stream = new WatchStream(call, {
      identity: this.deps.identity,
      store: this.deps.store,
      kv: this.deps.kv,
      fragmentBytes: this.deps.fragmentBytes,
      progressNotifyIntervalMs: progressReportInterval(this.deps.progressNotifyIntervalMs),
      progressRetryMs: PROGRESS_RETRY_MS,
      ...(this.deps.auth === undefined ? {} : { watchRefusal: watchPermission(this.deps.auth, call) }),
    });
    this.streams.add(stream);
    if (wantsLeader) this.requireLeader.set(stream, call);
    const forget = (): void => {
      this.streams.delete(stream);
      this.requireLeader.delete(stream);
    };
    // etcd's isValidSimpleToken: a simple token naming an Authenticate entry this member has not applied yet
    // holds the stream's requests (HTTP/2 flow control bounds them) until a ReadIndex barrier has applied it.
    const tokenPending = this.deps.auth?.tokenPending(tokenOf(call.metadata));
    if (tokenPending !== undefined) {
      call.pause();
      // tokenPending never rejects (a failed barrier leaves the token to be judged as it stands).
      void tokenPending.then(() => call.resume());
    }
    call.on('data', (request: etcdserverpb.WatchRequest) => {
      try {
        checkRequestDecoded(request);
      } catch (err) {
        this.fail(stream, call, err);
        return;
      }
      stream.onRequest(request);
    });
    // The client closing its side ends nothing: etcd's recvLoop returns nil without reporting it,
    // so the watchers go on until the client cancels the call.
    call.on('cancelled', () => {
      forget();
      stream.close();
    });
    call.on('error', () => {
      forget();
      stream.close();
    });
  }

  private fail(stream: WatchStream, call: WatchCall, err: unknown): void {
    const { error, known } = toServiceError(err);
    if (!known) this.deps.logger.error('watch stream failed', { error: err });
    this.streams.delete(stream);
    this.requireLeader.delete(stream);
    stream.close();
    call.emit('error', { ...error, code: error.code ?? status.UNKNOWN } as ServiceError);
  }
}

/**
 * etcd's GetProgressReportInterval, read once per stream: the flag's interval (0 or unset: the 10-minute default,
 * as etcd sets it only when > 0) plus a jitter of up to a tenth of it, so watchers created together (a client
 * restarting) are not all notified at the same moment.
 */
export function progressReportInterval(flagMs: number | undefined, random: () => number = Math.random): number {
  const interval = flagMs !== undefined && flagMs > 0 ? flagMs : DEFAULT_PROGRESS_NOTIFY_INTERVAL_MS;
  return interval + Math.floor(random() * (interval / 10));
}

/**
 * etcd's isWatchPermitted for one stream: the caller is read from the stream's metadata at each create, and a
 * refusal is named by its gRPC error's text (invalid token, no user, stale revision, or permission denied).
 */
function watchPermission(auth: AuthGate, call: WatchCall): (key: Uint8Array, rangeEnd: Uint8Array) => string | undefined {
  return (key, rangeEnd) => {
    const refusal = auth.watchRefusal(tokenOf(call.metadata), peerCommonName(call), key, rangeEnd);
    return refusal === undefined ? undefined : goErrorText(refusal);
  };
}
