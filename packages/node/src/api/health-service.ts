/**
 * grpc.health.v1.Health as etcd serves it (grpc-go's health server): the whole server, service
 * "", is SERVING while the member runs and NOT_SERVING once it shuts down; any other service name
 * is unknown (Check: NOT_FOUND "unknown service"; Watch: SERVICE_UNKNOWN, then updates).
 */
import type { ServerWritableStream } from '@grpc/grpc-js';
import { grpchealth } from '@corvid/proto';
import { CorvidError } from '../errors/index.js';
import { unary, type ServiceMethods, type UnaryContext } from './unary.js';

type ServingStatus = grpchealth.HealthCheckResponse_ServingStatus;
const { SERVING, NOT_SERVING, SERVICE_UNKNOWN } = grpchealth.HealthCheckResponse_ServingStatus;

const SERVICE = 'grpc.health.v1.Health';
/** The name grpc-go's health server registers the whole server under. */
const WHOLE_SERVER = '';

export class HealthState {
  private serving = true;
  private readonly watchers = new Set<(s: ServingStatus) => void>();

  statusOf(service: string): ServingStatus | undefined {
    if (service !== WHOLE_SERVER) return undefined;
    return this.serving ? SERVING : NOT_SERVING;
  }

  /** grpc-go's health server Shutdown(): every watcher learns NOT_SERVING. */
  shutdown(): void {
    this.serving = false;
    for (const notify of this.watchers) notify(NOT_SERVING);
  }

  watch(notify: (s: ServingStatus) => void): () => void {
    this.watchers.add(notify);
    return () => this.watchers.delete(notify);
  }
}

export function createHealthService(ctx: UnaryContext, health: HealthState): ServiceMethods<grpchealth.HealthServer, 'check' | 'watch'> {
  return {
    check: unary(ctx, SERVICE, 'Check', (request: grpchealth.HealthCheckRequest): grpchealth.HealthCheckResponse => {
      const current = health.statusOf(request.service);
      if (current === undefined) throw new CorvidError('HealthUnknownService');
      return { status: current };
    }),
    watch: (call: ServerWritableStream<grpchealth.HealthCheckRequest, grpchealth.HealthCheckResponse>) => {
      const send = (s: ServingStatus): void => {
        if (!call.cancelled) call.write({ status: s });
      };
      send(health.statusOf(call.request.service) ?? SERVICE_UNKNOWN);
      if (call.request.service !== WHOLE_SERVER) return;
      const stop = health.watch(send);
      call.once('cancelled', stop);
      call.once('close', stop);
    },
  };
}
