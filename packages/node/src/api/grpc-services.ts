/**
 * Registers the etcd services on the grpc-js server, each wrapped with etcd's receive limit, and
 * keeps their unary handlers by method path so the JSON gateway calls exactly what a gRPC client
 * reaches (same checks, same errors, same metrics). Streams pass etcd's stream interceptor first:
 * a learner refuses every stream (Watch, LeaseKeepAlive, Snapshot).
 */
import { Metadata, status, type handleUnaryCall, type Server, type ServerUnaryCall, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { CorvidError } from '../errors/index.js';
import type { GrpcMetrics } from '../metrics/index.js';
import { toServiceError } from './errors.js';
import { withGrpcGoRefusals } from './grpc-refusals.js';

type StreamHandler = (call: { emit(event: 'error', err: unknown): boolean; metadata?: Metadata }) => void;

export class GrpcServices {
  private readonly unaryHandlers = new Map<string, handleUnaryCall<unknown, unknown>>();

  constructor(
    private readonly server: Server,
    private readonly maxReceiveBytes: number,
    /** Whether this member is a learner now (etcd refuses streams on learners). */
    private readonly isLearner: () => boolean = () => false,
    /** Counts each admitted stream (etcd_server_client_requests_total, as etcd's stream interceptor). */
    private readonly metrics?: Pick<GrpcMetrics, 'countClientRequest'>,
  ) {}

  add<S extends ServiceDefinition>(service: S, implementation: UntypedServiceImplementation): void {
    this.server.addService(withGrpcGoRefusals(service, this.maxReceiveBytes), this.withStreamGate(service, implementation));
    for (const [name, method] of Object.entries(service)) {
      const handler = implementation[name];
      if (handler !== undefined && !method.requestStream && !method.responseStream) {
        this.unaryHandlers.set(method.path, handler as handleUnaryCall<unknown, unknown>);
      }
    }
  }

  private withStreamGate(service: ServiceDefinition, implementation: UntypedServiceImplementation): UntypedServiceImplementation {
    const gated: UntypedServiceImplementation = { ...implementation };
    for (const [name, method] of Object.entries(service)) {
      const handler = implementation[name] as StreamHandler | undefined;
      if (handler === undefined || (!method.requestStream && !method.responseStream)) continue;
      const gate: StreamHandler = (call) => {
        if (this.isLearner()) {
          call.emit('error', toServiceError(new CorvidError('NotSupportedForLearner')).error);
          return;
        }
        this.metrics?.countClientRequest('stream', call.metadata);
        handler(call);
      };
      gated[name] = gate as unknown as UntypedServiceImplementation[string];
    }
    return gated;
  }

  /** Calls a unary method in-process, as the gateway's loopback gRPC call does in etcd. */
  invoke = (grpcPath: string, request: unknown, headers: Readonly<Record<string, string>> = {}): Promise<unknown> => {
    const handler = this.unaryHandlers.get(grpcPath);
    if (handler === undefined) {
      return Promise.reject({ code: status.UNIMPLEMENTED, details: `The server does not implement the method ${grpcPath}` });
    }
    // Our handlers read only `request` (api/unary.ts); the rest of the call is what a loopback call shows.
    // The gateway's headers travel as metadata, as grpc-gateway forwards them (`authorization`: the caller's token).
    const metadata = new Metadata();
    for (const [key, value] of Object.entries(headers)) metadata.set(key, value);
    const call = { request, metadata, getPeer: () => 'gateway', cancelled: false } as unknown as ServerUnaryCall<unknown, unknown>;
    return new Promise((resolve, reject) => {
      handler(call, (err, value) => (err ? reject(err) : resolve(value)));
    });
  };
}
