// Parses corvid-bench's command line into one typed BenchOptions, with etcd benchmark's flag names and defaults.

export type Workload = 'put' | 'range' | 'txn-put' | 'txn-mixed' | 'watch' | 'watch-latency' | 'lease-keepalive';

export const WORKLOADS: readonly Workload[] = ['put', 'range', 'txn-put', 'txn-mixed', 'watch', 'watch-latency', 'lease-keepalive'];
export type Generator = 'auto' | 'h2load' | 'node';

/** One benchmark run. Either `total` requests or `durationSeconds` of load (duration wins when both are set). */
export interface BenchOptions {
  readonly workload: Workload;
  readonly endpoints: readonly string[];
  readonly clients: number;
  readonly conns: number;
  readonly total: number;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  readonly keySize: number;
  readonly valSize: number;
  readonly keySpaceSize: number;
  readonly sequentialKeys: boolean;
  /** l = linearizable, s = serializable (range only). */
  readonly consistency: 'l' | 's';
  /** Requests per second across all clients; 0 = as fast as possible. */
  readonly rate: number;
  readonly generator: Generator;
  /** txn-mixed: reads per write (etcd's --rw-ratio). */
  readonly rwRatio: number;
  /** Find the leader among --endpoints (Maintenance.Status) and send everything to it. */
  readonly targetLeader: boolean;
  /** watch, watch-latency: watch streams, and watchers on each (etcd's --streams, --watch-per-stream). */
  readonly streams: number;
  readonly watchPerStream: number;
  /** Worker threads of the Node generator. */
  readonly workers: number;
  readonly json: boolean;
}

export const DEFAULT_OPTIONS: BenchOptions = {
  workload: 'put',
  endpoints: ['127.0.0.1:2379'],
  clients: 1,
  conns: 1,
  total: 10_000,
  durationSeconds: 0,
  warmupSeconds: 0,
  keySize: 8,
  valSize: 8,
  keySpaceSize: 1,
  sequentialKeys: false,
  consistency: 'l',
  rate: 0,
  generator: 'auto',
  rwRatio: 1,
  targetLeader: false,
  streams: 10,
  watchPerStream: 10,
  workers: 2,
  json: false,
};

export const USAGE = `usage: corvid-bench <put|range|txn-put|txn-mixed|watch|watch-latency|lease-keepalive> [options]
  --endpoints host:port[,host:port]   (default 127.0.0.1:2379; http:// prefix allowed)
  --clients N          concurrent requests in flight (default 1)
  --conns N            HTTP/2 connections (default 1)
  --total N            requests to send (default 10000)
  --duration S         seconds of load instead of --total
  --warmup S           seconds of load before measuring (with --duration)
  --key-size N         (default 8)      --val-size N   (default 8)
  --key-space-size N   (default 1)      --sequential-keys
  --consistency l|s    range only (default l)
  --rate N             requests per second across all clients (default 0: unlimited; watch-latency: 100)
  --rw-ratio R         txn-mixed: reads per write (default 1)
  --streams N          watch, watch-latency: watch streams (default 10)
  --watch-per-stream N watch, watch-latency: watchers per stream (default 10)
  --target-leader      send every request to the leader among --endpoints
  --generator auto|h2load|node   auto: h2load when every request is identical (key space of 1)
  --workers N          worker threads of the node generator (default 2)
  --json               print the result as JSON`;

export class UsageError extends Error {}

function positiveInt(name: string, raw: string | undefined, allowZero = false): number {
  const n = Number(raw);
  if (raw === undefined || !Number.isSafeInteger(n) || n < (allowZero ? 0 : 1)) {
    throw new UsageError(`--${name} wants ${allowZero ? 'a non-negative' : 'a positive'} integer, got ${String(raw)}`);
  }
  return n;
}

function nonNegativeNumber(name: string, raw: string | undefined): number {
  const n = Number(raw);
  if (raw === undefined || raw === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`--${name} wants a number ≥ 0, got ${String(raw)}`);
  return n;
}

/** Strips a scheme and checks host:port, so endpoints read as etcd's do. */
export function parseEndpoint(raw: string): string {
  const hostPort = raw.replace(/^https?:\/\//, '').replace(/\/$/, '');
  if (!/^[^:/\s]+:\d{1,5}$/.test(hostPort)) throw new UsageError(`bad endpoint ${raw} (want host:port)`);
  return hostPort;
}

/** argv without node and script. Accepts `--flag value` and `--flag=value`. */
export function parseOptions(argv: readonly string[]): BenchOptions {
  const o: { -readonly [K in keyof BenchOptions]: BenchOptions[K] } = { ...DEFAULT_OPTIONS };
  let workload: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      if (workload !== undefined) throw new UsageError(`unexpected argument ${arg}`);
      workload = arg;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const flagOnly = name === 'sequential-keys' || name === 'json' || name === 'target-leader';
    let value: string | undefined;
    if (eq !== -1) value = arg.slice(eq + 1);
    else if (!flagOnly) value = argv[++i];
    switch (name) {
      case 'endpoints': o.endpoints = (value ?? '').split(',').filter((s) => s !== '').map(parseEndpoint); break;
      case 'clients': o.clients = positiveInt(name, value); break;
      case 'conns': o.conns = positiveInt(name, value); break;
      case 'total': o.total = positiveInt(name, value); break;
      case 'duration': o.durationSeconds = nonNegativeNumber(name, value); break;
      case 'warmup': o.warmupSeconds = nonNegativeNumber(name, value); break;
      case 'key-size': o.keySize = positiveInt(name, value); break;
      case 'val-size': o.valSize = positiveInt(name, value, true); break;
      case 'key-space-size': o.keySpaceSize = positiveInt(name, value); break;
      case 'sequential-keys': o.sequentialKeys = value === undefined || value === 'true'; break;
      case 'json': o.json = value === undefined || value === 'true'; break;
      case 'rate': o.rate = positiveInt(name, value, true); break;
      case 'workers': o.workers = positiveInt(name, value); break;
      case 'rw-ratio': o.rwRatio = nonNegativeNumber(name, value); break;
      case 'target-leader': o.targetLeader = value === undefined || value === 'true'; break;
      case 'streams': o.streams = positiveInt(name, value); break;
      case 'watch-per-stream': o.watchPerStream = positiveInt(name, value); break;
      case 'consistency':
        if (value !== 'l' && value !== 's') throw new UsageError(`--consistency wants l or s, got ${String(value)}`);
        o.consistency = value;
        break;
      case 'generator':
        if (value !== 'auto' && value !== 'h2load' && value !== 'node') throw new UsageError(`--generator wants auto, h2load or node, got ${String(value)}`);
        o.generator = value;
        break;
      default:
        throw new UsageError(`unknown option --${name}`);
    }
  }
  if (!(WORKLOADS as readonly string[]).includes(workload ?? '')) throw new UsageError(`unknown workload ${String(workload)}`);
  o.workload = workload as Workload;
  if (o.workload === 'watch-latency' && !argv.some((a) => a === '--rate' || a.startsWith('--rate='))) o.rate = 100; // etcd's --put-rate default
  if (o.endpoints.length === 0) throw new UsageError('--endpoints is empty');
  if (o.conns > o.clients) throw new UsageError(`--conns (${o.conns}) exceeds --clients (${o.clients})`);
  if (o.keySize < 8 && o.keySpaceSize > 2 ** (7 * o.keySize - 1)) throw new UsageError('--key-size too small for --key-space-size');
  return o;
}

/** True when every request of the run is byte-identical, so h2load can replay one pre-encoded body. */
export function isFixedRequest(o: BenchOptions): boolean {
  return o.keySpaceSize === 1 && (o.workload === 'put' || o.workload === 'range' || o.workload === 'txn-put');
}

/** Workloads that run over streams (watch events, lease keepalives), served by stream-workloads.ts. */
export function isStreamWorkload(o: BenchOptions): boolean {
  return o.workload === 'watch' || o.workload === 'watch-latency' || o.workload === 'lease-keepalive';
}
