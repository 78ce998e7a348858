/**
 * Turns command-line flags and `ETCD_*` environment variables into one typed `Config`, the way
 * etcd 3.4 does: Go-style flags (`--a=b`, `--a b`, `-a b`; booleans without a value), a flag on
 * the command line shadows its environment variable, and an unknown flag is an error.
 */
import { FLAG_BY_NAME, FLAGS, envNameOf, type FlagSpec } from './flags.js';
import { checkAcceptedValues, checkAutoCompactionMode, refusedFlags } from './compat.js';
import { openSslCiphersOf } from './cipher-suites.js';
import { ConfigError } from './errors.js';
import { parseBool, parseDurationMs, parseInt64, parseNonNegativeInt, parseUint32 } from './parse.js';

export { FLAGS, envNameOf } from './flags.js';
export type { FlagSpec } from './flags.js';

export interface Config {
  readonly name: string;
  readonly dataDir: string;
  /** --wal-dir ('' : the WAL stays in <data-dir>/member/wal). */
  readonly walDir: string;
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
  /**
   * --peer-cert-file, --peer-key-file, --peer-trusted-ca-file, --peer-client-cert-auth, --peer-cert-allowed-cn,
   * --experimental-peer-skip-client-san-verification.
   */
  readonly peerTls: TlsConfig & { readonly allowedCn: string; readonly skipClientSanVerify: boolean };
  /** --auto-compaction-mode and --auto-compaction-retention as given: etcd checks them at start (exit 1), see autoCompactionOf. */
  readonly autoCompaction: { readonly mode: string; readonly retention: string };
  /** --pre-vote: candidates first ask whether they could win (raft's PreVote). */
  readonly preVote: boolean;
  /** --strict-reconfig-check: refuse member changes that would lose quorum. */
  readonly strictReconfigCheck: boolean;
  /** --max-concurrent-streams and the --grpc-keepalive-* flags, for the client gRPC server. */
  readonly grpc: GrpcServerConfig;
  /** --bcrypt-cost as given; out of [4, 31] etcd warns and uses 10 (auth/password.ts maps it onto scrypt). */
  readonly bcryptCost: number;
  /** --logger ('zap' or 'capnslog': Corvid writes zap's JSON lines with either) and --log-outputs. */
  readonly logger: string;
  readonly logOutputs: readonly string[];
  /** --experimental-compaction-batch-limit: units of work per physical compaction chunk (mvcc/compaction.ts). */
  readonly compactionBatchLimit: number;
  /** --experimental-warning-apply-duration, in ms: an apply slower than this is logged and counted. */
  readonly warningApplyDurationMs: number;
  /** --auto-tls: without --cert-file/--key-file, a self-signed certificate (server/auto-tls.ts). */
  readonly autoTls: boolean;
  /** --host-whitelist: hosts plain-HTTP requests may name ('*' or empty: any), api/http/host-whitelist.ts. */
  readonly hostWhitelist: readonly string[];
  /** Flags given with a value Corvid does not support (e.g. --force-new-cluster): verifyConfig refuses to start. */
  readonly refused: readonly string[];
  /** Values etcd refuses only when it starts, in etcd's words (e.g. an unknown cipher suite): verifyConfig throws the first. */
  readonly startErrors: readonly string[];
}

export interface GrpcServerConfig {
  readonly maxConcurrentStreams: number;
  readonly keepaliveMinTimeMs: number;
  /** 0: the server never pings. */
  readonly keepaliveIntervalMs: number;
  readonly keepaliveTimeoutMs: number;
}

/** Files as given ('' = not set); read (and re-read when they change) by the listeners. */
export interface TlsConfig {
  readonly certFile: string;
  readonly keyFile: string;
  readonly trustedCaFile: string;
  readonly clientCertAuth: boolean;
  /** --client-crl-file / --peer-crl-file ('' = none). */
  readonly crlFile: string;
  /** --client-cert-allowed-hostname / --peer-cert-allowed-hostname ('' = any): a SAN of the client certificate must cover it. */
  readonly allowedHostname: string;
  /** --cipher-suites as OpenSSL's cipher list ('' = Node's defaults), for both listeners as etcd's. */
  readonly ciphers: string;
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

export { ConfigError } from './errors.js';
export { autoCompactionOf, logOutputsOf, type AutoCompaction } from './compat.js';

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
  // Each flag's value through its Go flag-package parser (errors name the flag).
  const bool = (name: string): boolean => parseBool(name, get(name));
  const durationMs = (name: string): number => parseDurationMs(name, get(name));
  const uint = (name: string): number => parseNonNegativeInt(name, get(name));
  const int64 = (name: string): number => parseInt64(name, get(name));
  const uint32 = (name: string): number => parseUint32(name, get(name));
  checkAcceptedValues(raw);
  // A name etcd does not know stops the start with etcd's words (exit 1), so it is checked by verifyConfig.
  let ciphers = '';
  let cipherError: string | undefined;
  try {
    ciphers = openSslCiphersOf(get('cipher-suites'));
  } catch (err) {
    cipherError = (err as Error).message;
  }
  const name = get('name');
  const dataDir = get('data-dir') === '${name}.etcd' ? `${name}.etcd` : get('data-dir');
  return {
    name,
    dataDir,
    walDir: get('wal-dir'),
    listenClientUrls: parseUrls('listen-client-urls', get('listen-client-urls')),
    advertiseClientUrls: parseUrls('advertise-client-urls', get('advertise-client-urls')),
    listenPeerUrls: parseUrls('listen-peer-urls', get('listen-peer-urls')),
    listenMetricsUrls: parseUrls('listen-metrics-urls', get('listen-metrics-urls')),
    metrics: parseMetricsLevel(get('metrics')),
    tracing: {
      enabled: bool('experimental-enable-distributed-tracing'),
      address: get('experimental-distributed-tracing-address'),
      serviceName: get('experimental-distributed-tracing-service-name'),
      samplingRatePerMillion: uint('experimental-distributed-tracing-sampling-rate'),
    },
    initialAdvertisePeerUrls: parseUrls('initial-advertise-peer-urls', get('initial-advertise-peer-urls')),
    initialCluster: parseInitialCluster(get('initial-cluster')),
    initialClusterState: parseClusterState(get('initial-cluster-state')),
    initialClusterToken: get('initial-cluster-token'),
    // etcd's flag is an int64: 0 means the 2 GiB default, a negative value switches the quota off.
    quotaBackendBytes: int64('quota-backend-bytes'),
    maxTxnOps: uint('max-txn-ops'),
    maxRequestBytes: uint('max-request-bytes'),
    heartbeatIntervalMs: uint('heartbeat-interval'),
    electionTimeoutMs: uint('election-timeout'),
    snapshotCount: uint('snapshot-count'),
    leaseCheckpointEnabled: bool('experimental-enable-lease-checkpoint'),
    leaseCheckpointPersist: bool('experimental-enable-lease-checkpoint-persist'),
    initialCorruptCheck: bool('experimental-initial-corrupt-check'),
    corruptCheckTimeMs: durationMs('experimental-corrupt-check-time'),
    leaseCheckpointIntervalMs: durationMs('experimental-lease-checkpoint-interval'),
    watchProgressNotifyIntervalMs: durationMs('experimental-watch-progress-notify-interval'),
    // etcd 3.4's --debug is --log-level=debug.
    logLevel: bool('debug') ? 'debug' : get('log-level'),
    authToken: get('auth-token'),
    authTokenTtlSeconds: uint('auth-token-ttl'),
    clientTls: {
      certFile: get('cert-file'), keyFile: get('key-file'), trustedCaFile: get('trusted-ca-file'), clientCertAuth: bool('client-cert-auth'), crlFile: get('client-crl-file'),
      allowedHostname: get('client-cert-allowed-hostname'), ciphers,
    },
    peerTls: {
      certFile: get('peer-cert-file'), keyFile: get('peer-key-file'), trustedCaFile: get('peer-trusted-ca-file'),
      clientCertAuth: bool('peer-client-cert-auth'), allowedCn: get('peer-cert-allowed-cn'), crlFile: get('peer-crl-file'),
      allowedHostname: get('peer-cert-allowed-hostname'), ciphers, skipClientSanVerify: bool('experimental-peer-skip-client-san-verification'),
    },
    autoCompaction: { mode: get('auto-compaction-mode'), retention: get('auto-compaction-retention') },
    preVote: bool('pre-vote'),
    strictReconfigCheck: bool('strict-reconfig-check'),
    grpc: {
      maxConcurrentStreams: uint32('max-concurrent-streams'),
      keepaliveMinTimeMs: durationMs('grpc-keepalive-min-time'),
      keepaliveIntervalMs: durationMs('grpc-keepalive-interval'),
      keepaliveTimeoutMs: durationMs('grpc-keepalive-timeout'),
    },
    bcryptCost: int64('bcrypt-cost'),
    logger: get('logger'),
    logOutputs: get('log-outputs').split(',').filter((o) => o.length > 0),
    compactionBatchLimit: uint('experimental-compaction-batch-limit'),
    warningApplyDurationMs: durationMs('experimental-warning-apply-duration'),
    autoTls: bool('auto-tls'),
    hostWhitelist: get('host-whitelist').split(',').filter((h) => h.length > 0),
    refused: refusedFlags(raw),
    startErrors: cipherError === undefined ? [] : [cipherError],
  };
}

/** etcd's embed.Config.Validate limit on --election-timeout (maxElectionMs). */
export const MAX_ELECTION_TIMEOUT_MS = 50000;

/**
 * The checks etcd makes after parsing (embed.Config.Validate), with its words. A member refuses to
 * start on them with exit status 1, as etcd's `error verifying flags, ... See 'etcd --help'.`
 */
export function verifyConfig(config: Pick<Config, 'heartbeatIntervalMs' | 'electionTimeoutMs'> & Partial<Pick<Config, 'leaseCheckpointEnabled' | 'leaseCheckpointPersist' | 'autoCompaction' | 'refused' | 'startErrors'>>): void {
  const { heartbeatIntervalMs: tick, electionTimeoutMs: election } = config;
  const fail = (why: string): never => {
    throw new ConfigError(`error verifying flags, ${why}. See 'etcd --help'.`);
  };
  if (tick === 0) fail(`--heartbeat-interval must be >0 (set to ${tick}ms)`);
  if (election === 0) fail(`--election-timeout must be >0 (set to ${election}ms)`);
  if (5 * tick > election) fail(`--election-timeout[${election}ms] should be at least as 5 times as --heartbeat-interval[${tick}ms]`);
  if (config.leaseCheckpointPersist === true && config.leaseCheckpointEnabled === false) fail('setting experimental-enable-lease-checkpoint-persist requires experimental-enable-lease-checkpoint');
  if (election > MAX_ELECTION_TIMEOUT_MS) fail(`--election-timeout[${election}ms] is too long, and should be set less than ${MAX_ELECTION_TIMEOUT_MS}ms`);
  const modeError = config.autoCompaction === undefined ? undefined : checkAutoCompactionMode(config.autoCompaction.mode);
  if (modeError !== undefined) fail(modeError);
  const refused = config.refused?.[0];
  if (refused !== undefined) fail(refused);
  const startError = config.startErrors?.[0];
  if (startError !== undefined) throw new ConfigError(startError);
}

/** etcd 3.4 accepts any word for --metrics and turns the histograms on only for 'extensive'. */
function parseMetricsLevel(value: string): 'basic' | 'extensive' {
  return value === 'extensive' ? 'extensive' : 'basic';
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
