/**
 * grpc_server_* metrics with go-grpc-prometheus's names and labels, which etcd 3.4 exports and
 * etcd's dashboards query: started, handled (with grpc_code), messages in and out, and — with
 * `--metrics extensive` only, as etcd (grpc_prometheus.EnableHandlingTimeHistogram) — the
 * handling-time histogram. etcd_network_client_grpc_{sent,received}_bytes_total count the encoded
 * messages of every client call (`register` wraps a service's codecs), and
 * etcd_server_client_requests_total counts calls by client API version.
 *
 * The request path only bumps cells (cells.ts): each method's cells are looked up once per call
 * by service and method name, with no label hashing; basic mode does not read the clock.
 */
import { Counter, type Registry } from 'prom-client';
import { status, type Metadata, type ServiceDefinition } from '@grpc/grpc-js';
import { CellCounter, CellHistogram, type CounterCell, type HistogramCell } from './cells.js';

export type GrpcType = 'unary' | 'client_stream' | 'server_stream' | 'bidi_stream';

/** go-grpc's names for status codes (index = code), which etcd's alert rules match on. */
const CODE_NAMES: readonly string[] = [
  'OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied',
  'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable',
  'DataLoss', 'Unauthenticated',
];

/** prometheus.DefBuckets, go-grpc-prometheus's default. */
const HANDLING_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** At most this many distinct client API versions get their own label value (then "unknown"). */
const MAX_CLIENT_VERSIONS = 16;

/** One method's cells. */
interface MethodCells {
  readonly started: CounterCell;
  readonly received: CounterCell;
  readonly sent: CounterCell;
  /** By status code (CODE_NAMES order). */
  readonly handled: readonly CounterCell[];
  readonly handling: HistogramCell | undefined;
}

export class GrpcMetrics {
  private readonly started: CellCounter;
  private readonly handled: CellCounter;
  private readonly received: CellCounter;
  private readonly sent: CellCounter;
  /** Registered only with `--metrics extensive`. */
  private readonly handlingSeconds: CellHistogram | undefined;
  private readonly sentBytes: Counter;
  private readonly receivedBytes: Counter;
  private readonly clientRequests: CellCounter;
  /** service → method → cells. */
  private readonly methods = new Map<string, Map<string, MethodCells>>();
  /** type → client API version → cell. */
  private readonly clientVersions = new Map<string, Map<string, CounterCell>>();

  constructor(registry: Registry, level: 'basic' | 'extensive' = 'basic') {
    this.started = new CellCounter(registry, 'grpc_server_started_total', 'Total number of RPCs started on the server.');
    this.handled = new CellCounter(registry, 'grpc_server_handled_total', 'Total number of RPCs completed on the server, regardless of success or failure.');
    this.received = new CellCounter(registry, 'grpc_server_msg_received_total', 'Total number of RPC stream messages received on the server.');
    this.sent = new CellCounter(registry, 'grpc_server_msg_sent_total', 'Total number of gRPC stream messages sent by the server.');
    this.handlingSeconds = level !== 'extensive' ? undefined : new CellHistogram(
      registry, 'grpc_server_handling_seconds',
      'Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.',
      HANDLING_BUCKETS,
    );
    this.sentBytes = new Counter({ name: 'etcd_network_client_grpc_sent_bytes_total', help: 'The total number of bytes sent to grpc clients.', registers: [registry] });
    this.receivedBytes = new Counter({ name: 'etcd_network_client_grpc_received_bytes_total', help: 'The total number of bytes received from grpc clients.', registers: [registry] });
    this.clientRequests = new CellCounter(registry, 'etcd_server_client_requests_total', 'The total number of client requests per client version.');
  }

  /**
   * etcd's interceptors count every call by type and the client's `client-api-version` metadata
   * (clientv3 sends "3.4"). Only a major.minor value becomes a label, anything else "unknown": the
   * client chooses the text, and a label must stay bounded.
   */
  countClientRequest(type: 'unary' | 'stream', metadata: Metadata | undefined): void {
    const [version] = metadata?.get('client-api-version') ?? [];
    let byVersion = this.clientVersions.get(type);
    if (byVersion === undefined) {
      byVersion = new Map();
      this.clientVersions.set(type, byVersion);
    }
    const key = typeof version === 'string' ? version : 'unknown';
    let cell = byVersion.get(key);
    if (cell === undefined) {
      const valid = /^\d{1,3}\.\d{1,3}$/.test(key) && byVersion.size < MAX_CLIENT_VERSIONS;
      cell = this.clientRequests.cell({ type, client_api_version: valid ? key : 'unknown' });
      if (valid || key === 'unknown') byVersion.set(key, cell);
    }
    cell.value += 1;
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
      this.cellsOf(grpcType, grpcService, grpcMethod);
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
    const cells = this.cellsOf('unary', service, method);
    cells.received.value += 1;
    const end = this.start(cells);
    return (code) => {
      if (code === status.OK) cells.sent.value += 1;
      end(code);
    };
  }

  /** Records the start of a server-streaming call; `sentMessage` counts each message sent, the returned end function its end. */
  startServerStream(service: string, method: string): { sentMessage(): void; end(code: number): void } {
    const cells = this.cellsOf('server_stream', service, method);
    cells.received.value += 1;
    return { sentMessage: () => { cells.sent.value += 1; }, end: this.start(cells) };
  }

  /**
   * Records the start of a bidi-streaming call (go-grpc-prometheus's StreamServerInterceptor): the
   * caller counts each message received and sent; `end` records the status code and duration.
   */
  startBidiStream(service: string, method: string): { receivedMessage(): void; sentMessage(): void; end(code: number): void } {
    const cells = this.cellsOf('bidi_stream', service, method);
    return {
      receivedMessage: () => { cells.received.value += 1; },
      sentMessage: () => { cells.sent.value += 1; },
      end: this.start(cells),
    };
  }

  /** Counts the start; the returned function counts the end by code and, if extensive, the time between. */
  private start(cells: MethodCells): (code: number) => void {
    cells.started.value += 1;
    const { handling } = cells;
    const startedAtMs = handling === undefined ? 0 : performance.now();
    return (code) => {
      (cells.handled[code] ?? (cells.handled[status.UNKNOWN] as CounterCell)).value += 1;
      handling?.observe((performance.now() - startedAtMs) / 1000);
    };
  }

  private cellsOf(type: GrpcType, service: string, method: string): MethodCells {
    let byMethod = this.methods.get(service);
    if (byMethod === undefined) {
      byMethod = new Map();
      this.methods.set(service, byMethod);
    }
    let cells = byMethod.get(method);
    if (cells === undefined) {
      const labels = { grpc_type: type, grpc_service: service, grpc_method: method };
      cells = {
        started: this.started.cell(labels),
        received: this.received.cell(labels),
        sent: this.sent.cell(labels),
        handled: CODE_NAMES.map((grpc_code) => this.handled.cell({ ...labels, grpc_code })),
        handling: this.handlingSeconds?.cell(labels),
      };
      byMethod.set(method, cells);
    }
    return cells;
  }
}
