/**
 * Turns command-line flags and `ETCD_*` environment variables into one typed `Config`, the way
 * etcd 3.4 does: Go-style flags (`--a=b`, `--a b`, `-a b`; booleans without a value), a flag on
 * the command line shadows its environment variable, and an unknown flag is an error.
 */
import { FLAG_BY_NAME, FLAGS, envNameOf, type FlagSpec } from './flags.js';

export { FLAGS, envNameOf } from './flags.js';
export type { FlagSpec } from './flags.js';

export interface Config {
  readonly name: string;
  readonly dataDir: string;
  /** URLs exactly as given (etcd reports them verbatim, e.g. in MemberList). */
  readonly listenClientUrls: readonly string[];
  readonly advertiseClientUrls: readonly string[];
  readonly listenPeerUrls: readonly string[];
  /** --listen-metrics-urls: plain HTTP listeners for /metrics and /health only. */
  readonly listenMetricsUrls: readonly string[];
  /** --metrics: 'extensive' adds grpc_server_handling_seconds, as etcd's. */
  readonly metrics: 'basic' | 'extensive';
  /** The --experimental-*distributed-tracing* flags (etcd 3.5's names). */
  readonly tracing: TracingConfig;
  readonly initialAdvertisePeerUrls: readonly string[];
  /** --initial-cluster as name → peer URLs, in the order given. */
  readonly initialCluster: readonly InitialMember[];
  readonly initialClusterState: 'new' | 'existing';
  readonly initialClusterToken: string;
  readonly quotaBackendBytes: number;
  readonly maxTxnOps: number;
  readonly maxRequestBytes: number;
  /** --heartbeat-interval: one Raft tick. */
  readonly heartbeatIntervalMs: number;
  /** --election-timeout: electionTicks = electionTimeoutMs / heartbeatIntervalMs. */
  readonly electionTimeoutMs: number;
  /** --snapshot-count: applied entries between two Raft snapshots (and WAL compactions). */
  readonly snapshotCount: number;
  /** --experimental-enable-lease-checkpoint (Corvid's default: true). */
  readonly leaseCheckpointEnabled: boolean;
  /** --experimental-enable-lease-checkpoint-persist: accepted and checked as etcd's; Corvid persists checkpoints anyway. */
  readonly leaseCheckpointPersist: boolean;
  /** --experimental-initial-corrupt-check: a restarted member compares its HashKV with its peers' before serving. */
  readonly initialCorruptCheck: boolean;
  /** --experimental-corrupt-check-time, in ms (0: off): how often the leader compares HashKV with every peer. */
  readonly corruptCheckTimeMs: number;
  /** --experimental-lease-checkpoint-interval, in ms. */
  readonly leaseCheckpointIntervalMs: number;
  /** --experimental-watch-progress-notify-interval, in ms: how often idle progress_notify watchers hear the revision. */
  readonly watchProgressNotifyIntervalMs: number;
  readonly logLevel: string;
  /** --auth-token as given ('simple', or 'jwt,pub-key=…,priv-key=…,sign-method=…[,ttl=…]'); auth/ parses it. */
  readonly authToken: string;
  /** --auth-token-ttl: a simple token lives this long after its last use. */
  readonly authTokenTtlSeconds: number;
  /** --cert-file, --key-file, --trusted-ca-file, --client-cert-auth: TLS on the https client URLs. */
  readonly clientTls: TlsConfig;
  /** --peer-cert-file, --peer-key-file, --peer-trusted-ca-file, --peer-client-cert-auth, --peer-cert-allowed-cn. */
  readonly peerTls: TlsConfig & { readonly allowedCn: string };
}

/** Files as given ('' = not set); read (and re-read when they change) by the listeners. */
export interface TlsConfig {
  readonly certFile: string;
  readonly keyFile: string;
  readonly trustedCaFile: string;
  readonly clientCertAuth: boolean;
}

export interface TracingConfig {
  readonly enabled: boolean;
  /** host:port of the OTLP/gRPC collector. */
  readonly address: string;
  readonly serviceName: string;
  /** Samples per million root spans (etcd 3.5's unit); 0 samples nothing, as etcd. */
  readonly samplingRatePerMillion: number;
}

export interface InitialMember {
  readonly name: string;
  readonly peerUrls: readonly string[];
}

/** etcd's default backend quota (2 GiB) used when --quota-backend-bytes is 0. */
export const DEFAULT_QUOTA_BACKEND_BYTES = 2 * 1024 * 1024 * 1024;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export type ParseOutcome = { kind: 'help' } | { kind: 'version' } | { kind: 'run'; config: Config };

/** Parses argv (without node and script) and env into a Config, or asks for help/version. */
export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ParseOutcome {
  const fromFlags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('-') || arg === '-' || arg === '--') {
      throw new ConfigError(`'${arg}' is not a valid flag`);
    }
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    if (name === 'h' || name === 'help') return { kind: 'help' };
    if (name === 'version') return { kind: 'version' };
    const spec = FLAG_BY_NAME.get(name);
    if (!spec) throw new ConfigError(`flag provided but not defined: -${name}`);
    let value: string;
    if (eq >= 0) value = body.slice(eq + 1);
    else if (spec.kind === 'bool') value = 'true';
    else {
      const next = argv[i + 1];
      if (next === undefined) throw new ConfigError(`flag needs an argument: -${name}`);
      value = next;
      i++;
    }
    fromFlags.set(name, value);
  }
  const raw = new Map<string, string>();
  const explicit = new Set<string>();
  for (const spec of FLAGS) {
    const given = fromFlags.get(spec.name) ?? env[envNameOf(spec.name)];
    if (given !== undefined) explicit.add(spec.name);
    raw.set(spec.name, given ?? spec.defaultValue);
  }
  // As etcd (etcdmain/config.go): without --initial-cluster, the cluster is this member alone,
  // named --name, at its --initial-advertise-peer-urls.
  if (!explicit.has('initial-cluster')) {
    const name = raw.get('name') as string;
    const peers = (raw.get('initial-advertise-peer-urls') as string).split(',').filter((u) => u.length > 0);
    raw.set('initial-cluster', peers.map((u) => `${name}=${u}`).join(','));
  }
  return { kind: 'run', config: buildConfig(raw) };
}

function buildConfig(raw: ReadonlyMap<string, string>): Config {
  const get = (name: string): string => raw.get(name) as string;
  const name = get('name');
  const dataDir = get('data-dir') === '${name}.etcd' ? `${name}.etcd` : get('data-dir');
  return {
    name,
    dataDir,
    listenClientUrls: parseUrls('listen-client-urls', get('listen-client-urls')),
    advertiseClientUrls: parseUrls('advertise-client-urls', get('advertise-client-urls')),
    listenPeerUrls: parseUrls('listen-peer-urls', get('listen-peer-urls')),
    listenMetricsUrls: parseUrls('listen-metrics-urls', get('listen-metrics-urls')),
    metrics: parseMetricsLevel(get('metrics')),
    tracing: {
      enabled: parseBool('experimental-enable-distributed-tracing', get('experimental-enable-distributed-tracing')),
      address: get('experimental-distributed-tracing-address'),
      serviceName: get('experimental-distributed-tracing-service-name'),
      samplingRatePerMillion: parseNonNegativeInt('experimental-distributed-tracing-sampling-rate', get('experimental-distributed-tracing-sampling-rate')),
    },
    initialAdvertisePeerUrls: parseUrls('initial-advertise-peer-urls', get('initial-advertise-peer-urls')),
    initialCluster: parseInitialCluster(get('initial-cluster')),
    initialClusterState: parseClusterState(get('initial-cluster-state')),
    initialClusterToken: get('initial-cluster-token'),
    // etcd's flag is an int64: 0 means the 2 GiB default, a negative value switches the quota off.
    quotaBackendBytes: parseInt64('quota-backend-bytes', get('quota-backend-bytes')),
    maxTxnOps: parseNonNegativeInt('max-txn-ops', get('max-txn-ops')),
    maxRequestBytes: parseNonNegativeInt('max-request-bytes', get('max-request-bytes')),
    heartbeatIntervalMs: parseNonNegativeInt('heartbeat-interval', get('heartbeat-interval')),
    electionTimeoutMs: parseNonNegativeInt('election-timeout', get('election-timeout')),
    snapshotCount: parseNonNegativeInt('snapshot-count', get('snapshot-count')),
    leaseCheckpointEnabled: parseBool('experimental-enable-lease-checkpoint', get('experimental-enable-lease-checkpoint')),
    leaseCheckpointPersist: parseBool('experimental-enable-lease-checkpoint-persist', get('experimental-enable-lease-checkpoint-persist')),
    initialCorruptCheck: parseBool('experimental-initial-corrupt-check', get('experimental-initial-corrupt-check')),
    corruptCheckTimeMs: parseDurationMs('experimental-corrupt-check-time', get('experimental-corrupt-check-time')),
    leaseCheckpointIntervalMs: parseDurationMs('experimental-lease-checkpoint-interval', get('experimental-lease-checkpoint-interval')),
    watchProgressNotifyIntervalMs: parseDurationMs('experimental-watch-progress-notify-interval', get('experimental-watch-progress-notify-interval')),
    logLevel: get('log-level'),
    authToken: get('auth-token'),
    authTokenTtlSeconds: parseNonNegativeInt('auth-token-ttl', get('auth-token-ttl')),
    clientTls: { certFile: get('cert-file'), keyFile: get('key-file'), trustedCaFile: get('trusted-ca-file'), clientCertAuth: parseBool('client-cert-auth', get('client-cert-auth')) },
    peerTls: {
      certFile: get('peer-cert-file'), keyFile: get('peer-key-file'), trustedCaFile: get('peer-trusted-ca-file'),
      clientCertAuth: parseBool('peer-client-cert-auth', get('peer-client-cert-auth')), allowedCn: get('peer-cert-allowed-cn'),
    },
  };
}

/** etcd's embed.Config.Validate limit on --election-timeout (maxElectionMs). */
export const MAX_ELECTION_TIMEOUT_MS = 50000;

/**
 * The checks etcd makes after parsing (embed.Config.Validate), with its words. A member refuses to
 * start on them with exit status 1, as etcd's `error verifying flags, ... See 'etcd --help'.`
 */
export function verifyConfig(config: Pick<Config, 'heartbeatIntervalMs' | 'electionTimeoutMs'> & Partial<Pick<Config, 'leaseCheckpointEnabled' | 'leaseCheckpointPersist'>>): void {
  const { heartbeatIntervalMs: tick, electionTimeoutMs: election } = config;
  const fail = (why: string): never => {
    throw new ConfigError(`error verifying flags, ${why}. See 'etcd --help'.`);
  };
  if (tick === 0) fail(`--heartbeat-interval must be >0 (set to ${tick}ms)`);
  if (election === 0) fail(`--election-timeout must be >0 (set to ${election}ms)`);
  if (5 * tick > election) fail(`--election-timeout[${election}ms] should be at least as 5 times as --heartbeat-interval[${tick}ms]`);
  if (config.leaseCheckpointPersist === true && config.leaseCheckpointEnabled === false) fail('setting experimental-enable-lease-checkpoint-persist requires experimental-enable-lease-checkpoint');
  if (election > MAX_ELECTION_TIMEOUT_MS) fail(`--election-timeout[${election}ms] is too long, and should be set less than ${MAX_ELECTION_TIMEOUT_MS}ms`);
}

function parseInt64(flag: string, value: string): number {
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new ConfigError(`invalid value "${value}" for flag -${flag}: parse error`);
  }
  return Number(value);
}

function parseNonNegativeInt(flag: string, value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new ConfigError(`invalid value "${value}" for flag -${flag}: parse error`);
  }
  return Number(value);
}

/** Go's strconv.ParseBool, as the flag package takes booleans (`invalid boolean value ...`). */
/** etcd 3.4 accepts any word for --metrics and turns the histograms on only for 'extensive'. */
function parseMetricsLevel(value: string): 'basic' | 'extensive' {
  return value === 'extensive' ? 'extensive' : 'basic';
}

function parseBool(flag: string, value: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw new ConfigError(`invalid boolean value "${value}" for -${flag}: parse error`);
}

const DURATION_UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration ("5m0s", "1.5s", "300ms"), in milliseconds; negative values are refused. */
function parseDurationMs(flag: string, value: string): number {
  const fail = (): never => {
    throw new ConfigError(`invalid value "${value}" for flag -${flag}: parse error`);
  };
  if (value === '0') return 0;
  const parts = [...value.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== value) fail();
  const ms = parts.reduce((sum, p) => sum + Number(p[1]) * (DURATION_UNIT_MS[p[2] as string] as number), 0);
  return Number.isFinite(ms) ? ms : fail();
}

/** etcd's types.NewURLs checks, in its order: scheme, then host:port, then no path. */
function parseUrls(flag: string, value: string): string[] {
  const fail = (why: string): never => {
    throw new ConfigError(`invalid value "${value}" for flag -${flag}: ${why}`);
  };
  return value.split(',').filter((s) => s.length > 0).map((s) => {
    const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(s)?.[1]?.toLowerCase() ?? '';
    if (scheme !== 'http' && scheme !== 'https' && scheme !== 'unix' && scheme !== 'unixs') {
      fail(`URL scheme must be http, https, unix, or unixs: ${s}`);
    }
    // Read the authority from the text: URL would drop a default port (":80") that Go keeps.
    const rest = s.slice(s.indexOf('://') + 3);
    const slash = rest.indexOf('/');
    const authority = slash < 0 ? rest : rest.slice(0, slash);
    if (!/^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):\d+$/.test(authority)) fail(`URL address does not have the form "host:port": ${s}`);
    if (slash >= 0) fail(`URL must not contain a path: ${s}`);
    if (scheme === 'unixs' || (scheme === 'https' && !TLS_URL_FLAGS.has(flag))) throw new ConfigError(`-${flag}: TLS is not supported yet (${s})`);
    return s;
  });
}

/** The URL flags whose https URLs Corvid serves (client and peer TLS); not yet the metrics URLs. */
const TLS_URL_FLAGS: ReadonlySet<string> = new Set(['listen-client-urls', 'advertise-client-urls', 'listen-peer-urls', 'initial-advertise-peer-urls', 'initial-cluster']);

/** "name=url,name=url2,other=url3": one entry per name, URLs in the order given. */
function parseInitialCluster(value: string): InitialMember[] {
  const byName = new Map<string, string[]>();
  for (const part of value.split(',').filter((p) => p.length > 0)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new ConfigError(`invalid value "${value}" for flag -initial-cluster: expected name=url, got ${part}`);
    const name = part.slice(0, eq);
    const urls = parseUrls('initial-cluster', part.slice(eq + 1));
    byName.set(name, [...(byName.get(name) ?? []), ...urls]);
  }
  return [...byName].map(([name, peerUrls]) => ({ name, peerUrls }));
}

function parseClusterState(value: string): 'new' | 'existing' {
  if (value !== 'new' && value !== 'existing') throw new ConfigError(`invalid value "${value}" for flag -initial-cluster-state: invalid value`);
  return value;
}

/** etcd-style usage text generated from the flag table. */
export function usageText(): string {
  const sections = new Map<string, FlagSpec[]>();
  for (const f of FLAGS) sections.set(f.section, [...(sections.get(f.section) ?? []), f]);
  const lines = [
    'Usage:',
    '',
    '  corvid [flags]',
    '    Start a Corvid member (speaks the etcd v3 API).',
    '',
    '  corvid --version',
    '    Show the version of Corvid.',
    '',
    '  corvid -h | --help',
    '    Show the help information about Corvid.',
    '',
  ];
  for (const [section, flags] of sections) {
    lines.push(`${section}:`);
    for (const f of flags) lines.push(`  --${f.name} '${f.defaultValue}'`, `    ${f.help}`);
    lines.push('');
  }
  lines.push('Every flag can also be set with an environment variable: ETCD_ + the flag name in upper case with - as _ (e.g. ETCD_DATA_DIR). A flag on the command line wins.', '');
  return lines.join('\n');
}
