/**
 * Wraps an async request handler as a grpc-js unary handler: times it into the grpc_server_*
 * metrics, maps thrown errors through the catalogue, and logs (and counts as Unknown) anything
 * the catalogue does not know.
 */
import { status, type handleUnaryCall, type Metadata, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import type { GrpcMetrics } from '../metrics/index.js';
import type { Tracing } from '../tracing/index.js';
import type { Logger } from '../util/logger.js';
import { CorvidError } from '../errors/index.js';
import { toServiceError } from './errors.js';
import { checkRequestDecoded } from './grpc-refusals.js';

export interface UnaryContext {
  readonly metrics: GrpcMetrics;
  readonly logger: Logger;
  /** Whether this member is a learner now: it then serves only what etcd lets a learner serve. */
  readonly isLearner?: () => boolean;
  /** Whether this member knows a leader: a call with `hasleader: true` metadata needs one (etcd's WithRequireLeader). */
  readonly hasLeader?: () => boolean;
  /** Set only when tracing is on: every call then runs in a server span. */
  readonly tracing?: Tracing | undefined;
  /** Resolves once the call's auth token can be judged (a simple token from a log entry not applied here yet). */
  readonly authReady?: (metadata: Metadata) => Promise<void> | undefined;
}

/**
 * etcd's isRPCSupportedForLearner: a learner answers Status and serializable Range only; every
 * other unary call gets `etcdserver: rpc not supported for learner`.
 */
function supportedForLearner(method: string, request: unknown): boolean {
  if (method === 'Status') return true;
  return method === 'Range' && (request as { serializable?: boolean }).serializable === true;
}

/**
 * The methods `K` of a generated service interface. The generated interfaces carry a string index
 * signature, so a plain Pick would accept a misspelt method name (and grpc-js would then answer
 * UNIMPLEMENTED); this accepts declared method names only.
 */
export type ServiceMethods<S, K extends keyof { [M in keyof S as string extends M ? never : M]: S[M] }> = Pick<S, K>;

export function unary<Req, Res>(
  ctx: UnaryContext,
  service: string,
  method: string,
  handle: (request: Req, call: ServerUnaryCall<Req, Res>) => Res | Promise<Res>,
): handleUnaryCall<Req, Res> {
  const untraced = (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
    const done = ctx.metrics.startUnary(service, method);
    const fail = (err: unknown): void => {
      const { error, known } = toServiceError(err);
      if (!known) ctx.logger.error('unexpected error serving request', { service, method, error: err });
      done(error.code ?? status.UNKNOWN);
      callback(error, null);
    };
    try {
      checkRequestDecoded(call.request);
      if (ctx.isLearner?.() === true && !supportedForLearner(method, call.request)) throw new CorvidError('NotSupportedForLearner');
      ctx.metrics.countClientRequest('unary', call.metadata);
      if (call.metadata.get('hasleader')[0] === 'true' && ctx.hasLeader?.() === false) throw new CorvidError('NoLeader');
      // etcd's isValidSimpleToken: a token from an Authenticate entry this member has not applied yet waits for it.
      const tokenPending = ctx.authReady?.(call.metadata);
      const result = tokenPending === undefined ? handle(call.request, call) : tokenPending.then(() => handle(call.request, call));
      if (result instanceof Promise) {
        result.then((res) => {
          done(status.OK);
          callback(null, res);
        }, fail);
      } else {
        done(status.OK);
        callback(null, result);
      }
    } catch (err) {
      fail(err);
    }
  };
  const { tracing } = ctx;
  if (tracing === undefined) return untraced;
  return (call, callback) => {
    const span = tracing.serverSpan(service, method, call.metadata.getMap());
    span.run(() => untraced(call, (error, value) => span.respond(error?.code ?? status.OK, value, () => callback(error, value))));
  };
}
