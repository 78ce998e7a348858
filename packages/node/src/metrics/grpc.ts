/**
 * grpc_server_* metrics with go-grpc-prometheus's names and labels, which etcd 3.4 exports and
 * etcd's dashboards query: started, handled (with grpc_code), messages in and out, and — with
 * `--metrics extensive` only, as etcd (grpc_prometheus.EnableHandlingTimeHistogram) — the
 * handling-time histogram. etcd_network_client_grpc_{sent,received}_bytes_total count the encoded
 * messages of every client call (`countMessageBytes` wraps a service's codecs).
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import { status, type Metadata, type ServiceDefinition } from '@grpc/grpc-js';

export type GrpcType = 'unary' | 'client_stream' | 'server_stream' | 'bidi_stream';

/** go-grpc's names for status codes, which etcd's alert rules match on. */
const CODE_NAMES: Readonly<Record<number, string>> = {
  [status.OK]: 'OK',
  [status.CANCELLED]: 'Canceled',
  [status.UNKNOWN]: 'Unknown',
  [status.INVALID_ARGUMENT]: 'InvalidArgument',
  [status.DEADLINE_EXCEEDED]: 'DeadlineExceeded',
  [status.NOT_FOUND]: 'NotFound',
  [status.ALREADY_EXISTS]: 'AlreadyExists',
  [status.PERMISSION_DENIED]: 'PermissionDenied',
  [status.RESOURCE_EXHAUSTED]: 'ResourceExhausted',
  [status.FAILED_PRECONDITION]: 'FailedPrecondition',
  [status.ABORTED]: 'Aborted',
  [status.OUT_OF_RANGE]: 'OutOfRange',
  [status.UNIMPLEMENTED]: 'Unimplemented',
  [status.INTERNAL]: 'Internal',
  [status.UNAVAILABLE]: 'Unavailable',
  [status.DATA_LOSS]: 'DataLoss',
  [status.UNAUTHENTICATED]: 'Unauthenticated',
};

const LABELS = ['grpc_type', 'grpc_service', 'grpc_method'] as const;

export class GrpcMetrics {
  private readonly started: Counter<(typeof LABELS)[number]>;
  private readonly handled: Counter<(typeof LABELS)[number] | 'grpc_code'>;
  private readonly received: Counter<(typeof LABELS)[number]>;
  private readonly sent: Counter<(typeof LABELS)[number]>;
  /** Registered only with `--metrics extensive`. */
  private readonly handlingSeconds: Histogram<(typeof LABELS)[number]> | undefined;
  private readonly sentBytes: Counter;
  private readonly receivedBytes: Counter;
  private readonly clientRequests: Counter<'type' | 'client_api_version'>;

  constructor(registry: Registry, level: 'basic' | 'extensive' = 'basic') {
    this.started = new Counter({ name: 'grpc_server_started_total', help: 'Total number of RPCs started on the server.', labelNames: LABELS, registers: [registry] });
    this.handled = new Counter({ name: 'grpc_server_handled_total', help: 'Total number of RPCs completed on the server, regardless of success or failure.', labelNames: [...LABELS, 'grpc_code'], registers: [registry] });
    this.received = new Counter({ name: 'grpc_server_msg_received_total', help: 'Total number of RPC stream messages received on the server.', labelNames: LABELS, registers: [registry] });
    this.sent = new Counter({ name: 'grpc_server_msg_sent_total', help: 'Total number of gRPC stream messages sent by the server.', labelNames: LABELS, registers: [registry] });
    this.handlingSeconds = level !== 'extensive' ? undefined : new Histogram({
      name: 'grpc_server_handling_seconds',
      help: 'Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.',
      labelNames: LABELS,
      // prometheus.DefBuckets, go-grpc-prometheus's default.
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    this.sentBytes = new Counter({ name: 'etcd_network_client_grpc_sent_bytes_total', help: 'The total number of bytes sent to grpc clients.', registers: [registry] });
    this.receivedBytes = new Counter({ name: 'etcd_network_client_grpc_received_bytes_total', help: 'The total number of bytes received from grpc clients.', registers: [registry] });
    this.clientRequests = new Counter({ name: 'etcd_server_client_requests_total', help: 'The total number of client requests per client version.', labelNames: ['type', 'client_api_version'], registers: [registry] });
  }

  /**
   * etcd's interceptors count every call by type and the client's `client-api-version` metadata
   * (clientv3 sends "3.4"). Only a major.minor value becomes a label, anything else "unknown": the
   * client chooses the text, and a label must stay bounded.
   */
  countClientRequest(type: 'unary' | 'stream', metadata: Metadata | undefined): void {
    const [version] = metadata?.get('client-api-version') ?? [];
    const clientApiVersion = typeof version === 'string' && /^\d{1,3}\.\d{1,3}$/.test(version) ? version : 'unknown';
    this.clientRequests.inc({ type, client_api_version: clientApiVersion });
  }

  /**
   * Prepares a service for serving, as etcd's grpc_prometheus.Register does: every method's series
   * exist at 0 from the start (started, messages, handled for every code, the histogram), so
   * dashboards and alerts on failures and open streams see a 0 rather than no series. Returns the
   * service with its codecs wrapped to count client bytes (`countMessageBytes`).
   */
  register<S extends ServiceDefinition>(service: S): S {
    for (const method of Object.values(service)) {
      const [, grpcService = '', grpcMethod = ''] = /^\/([^/]+)\/(.+)$/.exec(method.path) ?? [];
      const grpcType: GrpcType = method.requestStream
        ? (method.responseStream ? 'bidi_stream' : 'client_stream')
        : (method.responseStream ? 'server_stream' : 'unary');
      const labels = { grpc_type: grpcType, grpc_service: grpcService, grpc_method: grpcMethod };
      this.started.inc(labels, 0);
      this.received.inc(labels, 0);
      this.sent.inc(labels, 0);
      this.handlingSeconds?.zero(labels);
      for (const code of Object.values(CODE_NAMES)) this.handled.inc({ ...labels, grpc_code: code }, 0);
    }
    return this.countMessageBytes(service);
  }

  /**
   * The same service with its codecs wrapped to count every encoded request and response message
   * (the gRPC framing is not counted). Cost: one counter increment per message.
   */
  private countMessageBytes<S extends ServiceDefinition>(service: S): S {
    const wrapped: Record<string, unknown> = {};
    for (const [name, method] of Object.entries(service)) {
      wrapped[name] = {
        ...method,
        requestDeserialize: (bytes: Buffer): unknown => {
          this.receivedBytes.inc(bytes.length);
          return method.requestDeserialize(bytes);
        },
        responseSerialize: (value: unknown): Buffer => {
          const bytes = method.responseSerialize(value);
          this.sentBytes.inc(bytes.length);
          return bytes;
        },
      };
    }
    return wrapped as S;
  }

  /** Records the start of a unary call; the returned function records its end. */
  startUnary(service: string, method: string): (code: number) => void {
    return this.start('unary', service, method);
  }

  /** Records the start of a server-streaming call; `sentMessage` counts each message sent, the returned end function its end. */
  startServerStream(service: string, method: string): { sentMessage(): void; end(code: number): void } {
    const labels = { grpc_type: 'server_stream', grpc_service: service, grpc_method: method };
    const end = this.start('server_stream', service, method, false);
    return { sentMessage: () => this.sent.inc(labels), end };
  }

  /**
   * Records the start of a bidi-streaming call (go-grpc-prometheus's StreamServerInterceptor): the
   * caller counts each message received and sent; `end` records the status code and duration.
   */
  startBidiStream(service: string, method: string): { receivedMessage(): void; sentMessage(): void; end(code: number): void } {
    const labels = { grpc_type: 'bidi_stream', grpc_service: service, grpc_method: method };
    const startedAt = process.hrtime.bigint();
    this.started.inc(labels);
    return {
      receivedMessage: () => this.received.inc(labels),
      sentMessage: () => this.sent.inc(labels),
      end: (code) => {
        this.handled.inc({ ...labels, grpc_code: CODE_NAMES[code] ?? 'Unknown' });
        this.handlingSeconds?.observe(labels, Number(process.hrtime.bigint() - startedAt) / 1e9);
      },
    };
  }

  private start(type: GrpcType, service: string, method: string, countReply = true): (code: number) => void {
    const labels = { grpc_type: type, grpc_service: service, grpc_method: method };
    const startedAt = process.hrtime.bigint();
    this.started.inc(labels);
    this.received.inc(labels);
    return (code) => {
      this.handled.inc({ ...labels, grpc_code: CODE_NAMES[code] ?? 'Unknown' });
      if (code === status.OK && countReply) this.sent.inc(labels);
      this.handlingSeconds?.observe(labels, Number(process.hrtime.bigint() - startedAt) / 1e9);
    };
  }
}
