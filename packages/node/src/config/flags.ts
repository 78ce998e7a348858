/**
 * The member's flags, with etcd 3.4's names, defaults and help text for what Corvid supports.
 * One table drives parsing, `ETCD_*` environment variables and `--help`.
 */
export type FlagKind = 'string' | 'int' | 'bool' | 'urls' | 'duration';

export interface FlagSpec {
  readonly name: string;
  readonly kind: FlagKind;
  readonly defaultValue: string;
  readonly help: string;
  readonly section: 'Member' | 'Clustering' | 'Security' | 'Auth' | 'Logging' | 'Profiling and Monitoring' | 'Experimental' | 'Unsafe';
}

export const FLAGS: readonly FlagSpec[] = [
  { section: 'Member', name: 'name', kind: 'string', defaultValue: 'default', help: 'Human-readable name for this member.' },
  { section: 'Member', name: 'data-dir', kind: 'string', defaultValue: '${name}.etcd', help: 'Path to the data directory.' },
  { section: 'Member', name: 'snapshot-count', kind: 'int', defaultValue: '100000', help: 'Number of committed transactions to trigger a snapshot to disk.' },
  { section: 'Member', name: 'heartbeat-interval', kind: 'int', defaultValue: '100', help: 'Time (in milliseconds) of a heartbeat interval.' },
  { section: 'Member', name: 'election-timeout', kind: 'int', defaultValue: '1000', help: 'Time (in milliseconds) for an election to timeout. See tuning documentation for details.' },
  { section: 'Member', name: 'listen-peer-urls', kind: 'urls', defaultValue: 'http://localhost:2380', help: 'List of URLs to listen on for peer traffic.' },
  { section: 'Member', name: 'listen-client-urls', kind: 'urls', defaultValue: 'http://localhost:2379', help: 'List of URLs to listen on for client traffic.' },
  { section: 'Member', name: 'quota-backend-bytes', kind: 'int', defaultValue: '0', help: 'Raise alarms when backend size exceeds the given quota (0 defaults to low space quota).' },
  { section: 'Member', name: 'max-txn-ops', kind: 'int', defaultValue: '128', help: 'Maximum number of operations permitted in a transaction.' },
  { section: 'Member', name: 'max-request-bytes', kind: 'int', defaultValue: '1572864', help: 'Maximum client request size in bytes the server will accept.' },
  // Corvid turns lease checkpoints on by default (etcd 3.4: off); =false gives etcd 3.4's behaviour. Always persisted.
  { section: 'Member', name: 'experimental-enable-lease-checkpoint', kind: 'bool', defaultValue: 'true', help: 'ExperimentalEnableLeaseCheckpoint enables primary lessor to persist lease remainingTTL to prevent indefinite auto-renewal of long lived leases.' },
  // Accepted for etcd 3.4's command lines; Corvid always persists checkpoints.
  { section: 'Member', name: 'experimental-enable-lease-checkpoint-persist', kind: 'bool', defaultValue: 'false', help: 'Enable persisting remainingTTL to prevent indefinite auto-renewal of long lived leases (always on in Corvid). Requires experimental-enable-lease-checkpoint to be enabled.' },
  { section: 'Member', name: 'experimental-initial-corrupt-check', kind: 'bool', defaultValue: 'false', help: 'Enable to check data corruption before serving any client/peer traffic.' },
  { section: 'Member', name: 'experimental-corrupt-check-time', kind: 'duration', defaultValue: '0s', help: 'Duration of time between cluster corruption check passes.' },
  { section: 'Member', name: 'experimental-lease-checkpoint-interval', kind: 'duration', defaultValue: '5m0s', help: 'Duration of periodic checkpoints of the remaining TTL of leases (etcd 3.5\'s flag).' },
  { section: 'Member', name: 'experimental-watch-progress-notify-interval', kind: 'duration', defaultValue: '10m0s', help: 'Duration of periodical watch progress notification.' },
  { section: 'Member', name: 'wal-dir', kind: 'string', defaultValue: '', help: 'Path to the dedicated wal directory (<data-dir>/member/wal becomes a link to it).' },
  { section: 'Member', name: 'max-snapshots', kind: 'int', defaultValue: '5', help: 'Maximum number of snapshot files to retain (0 is unlimited). Accepted, no effect: Corvid keeps no snapshot files to purge (a received snapshot is applied, then removed).' },
  { section: 'Member', name: 'max-wals', kind: 'int', defaultValue: '5', help: 'Maximum number of wal files to retain (0 is unlimited). Accepted, no effect: Corvid\'s WAL is one LMDB environment, compacted after each snapshot.' },
  { section: 'Member', name: 'backend-batch-interval', kind: 'duration', defaultValue: '', help: 'BackendBatchInterval is the maximum time before commit the backend transaction. Accepted, no effect: Corvid commits each Ready\'s entries in one LMDB transaction.' },
  { section: 'Member', name: 'backend-batch-limit', kind: 'int', defaultValue: '0', help: 'BackendBatchLimit is the maximum operations before commit the backend transaction. Accepted, no effect (see --backend-batch-interval).' },
  { section: 'Member', name: 'max-concurrent-streams', kind: 'int', defaultValue: '4294967295', help: 'Maximum concurrent streams that each client can open at a time (etcd shows math.MaxUint32).' },
  { section: 'Member', name: 'grpc-keepalive-min-time', kind: 'duration', defaultValue: '5s', help: 'Minimum duration interval that a client should wait before pinging server.' },
  { section: 'Member', name: 'grpc-keepalive-interval', kind: 'duration', defaultValue: '2h', help: 'Frequency duration of server-to-client ping to check if a connection is alive (0 to disable).' },
  { section: 'Member', name: 'grpc-keepalive-timeout', kind: 'duration', defaultValue: '20s', help: 'Additional duration of wait before closing a non-responsive connection (0 to disable).' },
  { section: 'Clustering', name: 'advertise-client-urls', kind: 'urls', defaultValue: 'http://localhost:2379', help: 'List of this member\'s client URLs to advertise to the public.' },
  { section: 'Clustering', name: 'initial-cluster', kind: 'string', defaultValue: 'default=http://localhost:2380', help: 'Initial cluster configuration for bootstrapping.' },
  { section: 'Clustering', name: 'initial-cluster-state', kind: 'string', defaultValue: 'new', help: "Initial cluster state ('new' or 'existing')." },
  { section: 'Clustering', name: 'initial-cluster-token', kind: 'string', defaultValue: 'etcd-cluster', help: 'Initial cluster token for the etcd cluster during bootstrap.' },
  { section: 'Clustering', name: 'initial-advertise-peer-urls', kind: 'urls', defaultValue: 'http://localhost:2380', help: 'List of this member\'s peer URLs to advertise to the rest of the cluster.' },
  { section: 'Clustering', name: 'proxy', kind: 'string', defaultValue: 'off', help: "Proxy mode setting ('off', 'readonly' or 'on'). Corvid has no v2 proxy: 'readonly' and 'on' are refused." },
  { section: 'Clustering', name: 'proxy-failure-wait', kind: 'int', defaultValue: '5000', help: 'Time (in milliseconds) an endpoint will be held in a failed state. Accepted, no effect (no v2 proxy).' },
  { section: 'Clustering', name: 'proxy-refresh-interval', kind: 'int', defaultValue: '30000', help: 'Time (in milliseconds) of the endpoints refresh interval. Accepted, no effect (no v2 proxy).' },
  { section: 'Clustering', name: 'proxy-dial-timeout', kind: 'int', defaultValue: '1000', help: 'Time (in milliseconds) for a dial to timeout. Accepted, no effect (no v2 proxy).' },
  { section: 'Clustering', name: 'proxy-write-timeout', kind: 'int', defaultValue: '5000', help: 'Time (in milliseconds) for a write to timeout. Accepted, no effect (no v2 proxy).' },
  { section: 'Clustering', name: 'proxy-read-timeout', kind: 'int', defaultValue: '0', help: 'Time (in milliseconds) for a read to timeout. Accepted, no effect (no v2 proxy).' },
  { section: 'Clustering', name: 'discovery', kind: 'string', defaultValue: '', help: 'Discovery URL used to bootstrap the cluster. Not supported by Corvid: a non-empty value is refused; use --initial-cluster.' },
  { section: 'Clustering', name: 'discovery-fallback', kind: 'string', defaultValue: 'proxy', help: "Expected behavior ('exit' or 'proxy') when discovery services fails. Accepted; Corvid has no discovery." },
  { section: 'Clustering', name: 'discovery-proxy', kind: 'string', defaultValue: '', help: 'HTTP proxy to use for traffic to discovery service. Not supported by Corvid: a non-empty value is refused.' },
  { section: 'Clustering', name: 'discovery-srv', kind: 'string', defaultValue: '', help: 'DNS srv domain used to bootstrap the cluster. Not supported by Corvid: a non-empty value is refused.' },
  { section: 'Clustering', name: 'discovery-srv-name', kind: 'string', defaultValue: '', help: 'Suffix to the dns srv name queried when bootstrapping. Not supported by Corvid: a non-empty value is refused.' },
  { section: 'Clustering', name: 'strict-reconfig-check', kind: 'bool', defaultValue: 'true', help: 'Reject reconfiguration requests that would cause quorum loss.' },
  { section: 'Clustering', name: 'pre-vote', kind: 'bool', defaultValue: 'false', help: 'Enable to run an additional Raft election phase.' },
  { section: 'Clustering', name: 'initial-election-tick-advance', kind: 'bool', defaultValue: 'true', help: 'Whether to fast-forward initial election ticks on boot for faster election. Accepted, no effect: a Corvid member that is the only voter campaigns at once; otherwise it waits a full election timeout.' },
  { section: 'Clustering', name: 'auto-compaction-retention', kind: 'string', defaultValue: '0', help: 'Auto compaction retention length. 0 means disable auto compaction.' },
  { section: 'Clustering', name: 'auto-compaction-mode', kind: 'string', defaultValue: 'periodic', help: "Interpret 'auto-compaction-retention' one of: periodic|revision. 'periodic' for duration based retention, defaulting to hours if no time unit is provided (e.g. '5m'). 'revision' for revision number based retention." },
  { section: 'Clustering', name: 'enable-v2', kind: 'bool', defaultValue: 'false', help: 'Accept etcd V2 client requests. Corvid has no v2 API: true is refused.' },
  { section: 'Profiling and Monitoring', name: 'listen-metrics-urls', kind: 'urls', defaultValue: '', help: 'List of URLs to listen on for the metrics and health endpoints.' },
  { section: 'Profiling and Monitoring', name: 'metrics', kind: 'string', defaultValue: 'basic', help: "Set level of detail for exported metrics, specify 'extensive' to include server side grpc histogram metrics." },
  // etcd 3.5's tracing flags (OTLP over gRPC); OTEL_* environment variables are honoured as well.
  { section: 'Profiling and Monitoring', name: 'experimental-enable-distributed-tracing', kind: 'bool', defaultValue: 'false', help: 'Enable experimental distributed tracing using OpenTelemetry Tracing.' },
  { section: 'Profiling and Monitoring', name: 'experimental-distributed-tracing-address', kind: 'string', defaultValue: 'localhost:4317', help: 'Address for distributed tracing used for OpenTelemetry Tracing (if enabled with experimental-enable-distributed-tracing flag).' },
  { section: 'Profiling and Monitoring', name: 'experimental-distributed-tracing-service-name', kind: 'string', defaultValue: 'etcd', help: 'Configures service name for distributed tracing to be used to define service name for OpenTelemetry Tracing (if enabled with experimental-enable-distributed-tracing flag). \'etcd\' is the default service name. Use the same service name for all instances of etcd.' },
  { section: 'Profiling and Monitoring', name: 'experimental-distributed-tracing-sampling-rate', kind: 'int', defaultValue: '0', help: 'Number of samples to collect per million spans for OpenTelemetry Tracing (if enabled with experimental-enable-distributed-tracing flag).' },
  { section: 'Security', name: 'cert-file', kind: 'string', defaultValue: '', help: 'Path to the client server TLS cert file.' },
  { section: 'Security', name: 'key-file', kind: 'string', defaultValue: '', help: 'Path to the client server TLS key file.' },
  { section: 'Security', name: 'client-cert-auth', kind: 'bool', defaultValue: 'false', help: 'Enable client cert authentication.' },
  { section: 'Security', name: 'trusted-ca-file', kind: 'string', defaultValue: '', help: 'Path to the client server TLS trusted CA cert file.' },
  { section: 'Security', name: 'peer-cert-file', kind: 'string', defaultValue: '', help: 'Path to the peer server TLS cert file.' },
  { section: 'Security', name: 'peer-key-file', kind: 'string', defaultValue: '', help: 'Path to the peer server TLS key file.' },
  { section: 'Security', name: 'peer-client-cert-auth', kind: 'bool', defaultValue: 'false', help: 'Enable peer client cert authentication.' },
  { section: 'Security', name: 'peer-trusted-ca-file', kind: 'string', defaultValue: '', help: 'Path to the peer server TLS trusted CA file.' },
  { section: 'Security', name: 'peer-cert-allowed-cn', kind: 'string', defaultValue: '', help: 'Required CN for client certs connecting to the peer endpoint.' },
  { section: 'Security', name: 'client-crl-file', kind: 'string', defaultValue: '', help: 'Path to the client certificate revocation list file.' },
  { section: 'Security', name: 'client-cert-allowed-hostname', kind: 'string', defaultValue: '', help: 'Allowed TLS hostname for client cert authentication.' },
  { section: 'Security', name: 'auto-tls', kind: 'bool', defaultValue: 'false', help: 'Client TLS using generated certificates.' },
  { section: 'Security', name: 'peer-cert-allowed-hostname', kind: 'string', defaultValue: '', help: 'Allowed TLS hostname for inter peer authentication.' },
  { section: 'Security', name: 'peer-auto-tls', kind: 'bool', defaultValue: 'false', help: 'Peer TLS using self-generated certificates if --peer-key-file and --peer-cert-file are not provided. Not supported by Corvid: true is refused.' },
  { section: 'Security', name: 'peer-crl-file', kind: 'string', defaultValue: '', help: 'Path to the peer certificate revocation list file.' },
  { section: 'Security', name: 'cipher-suites', kind: 'string', defaultValue: '', help: "Comma-separated list of supported TLS cipher suites between client/server and peers (empty will be auto-populated by Go). Go's names; they restrict TLS 1.2 on Corvid's client and peer listeners." },
  { section: 'Security', name: 'cors', kind: 'string', defaultValue: '*', help: "Comma-separated whitelist of origins for CORS, or cross-origin resource sharing, (empty or * means allow all). Corvid allows all: any other value is refused." },
  { section: 'Security', name: 'host-whitelist', kind: 'string', defaultValue: '*', help: 'Acceptable hostnames from HTTP client requests, if server is not secure (empty or * means allow all).' },
  { section: 'Auth', name: 'auth-token', kind: 'string', defaultValue: 'simple', help: "Specify a v3 authentication token type and its options ('simple' or 'jwt')." },
  { section: 'Auth', name: 'auth-token-ttl', kind: 'int', defaultValue: '300', help: 'The lifetime in seconds of the auth token.' },
  { section: 'Auth', name: 'bcrypt-cost', kind: 'int', defaultValue: '10', help: 'Specify the cost / strength of the bcrypt algorithm for hashing auth passwords. Valid values are between 4 and 31. Corvid hashes with scrypt: the cost sets its work factor (log2 N = cost + 4, see docs/auth.md).' },
  { section: 'Profiling and Monitoring', name: 'enable-pprof', kind: 'bool', defaultValue: 'false', help: 'Enable runtime profiling data via HTTP server. Corvid has no Go pprof endpoints: true is refused.' },
  { section: 'Logging', name: 'log-level', kind: 'string', defaultValue: 'info', help: 'Configures log level. Only supports debug, info, warn, error, panic, or fatal.' },
  { section: 'Logging', name: 'debug', kind: 'bool', defaultValue: 'false', help: "Enable debug-level logging for etcd. [WARN] Will be deprecated in v3.5. Use '--log-level=debug' instead." },
  { section: 'Logging', name: 'log-package-levels', kind: 'string', defaultValue: '', help: "Specify a particular log level for each etcd package (eg: 'etcdmain=CRITICAL,etcdserver=DEBUG'). Accepted, no effect: Corvid has one --log-level." },
  { section: 'Logging', name: 'logger', kind: 'string', defaultValue: 'capnslog', help: "Specify 'zap' for structured logging or 'capnslog'. Corvid logs zap's JSON lines with either." },
  { section: 'Logging', name: 'log-outputs', kind: 'string', defaultValue: 'default', help: "Specify 'stdout' or 'stderr', or (with --logger zap) a list of comma separated output targets: file paths are appended to." },
  { section: 'Experimental', name: 'experimental-backend-bbolt-freelist-type', kind: 'string', defaultValue: 'array', help: 'ExperimentalBackendFreelistType specifies the type of freelist that boltdb backend uses(array and map are supported types). Accepted, no effect: Corvid stores in LMDB.' },
  { section: 'Experimental', name: 'experimental-compaction-batch-limit', kind: 'int', defaultValue: '100', help: "ExperimentalCompactionBatchLimit sets the maximum revisions deleted in each compaction batch. Corvid's unit is entries examined plus versions deleted, each batch one commit (etcd's default: 1000 keys; 0: Corvid's default)." },
  { section: 'Experimental', name: 'experimental-warning-apply-duration', kind: 'duration', defaultValue: '100ms', help: 'Warning is generated if requests take more than this duration.' },
  { section: 'Experimental', name: 'experimental-enable-v2v3', kind: 'string', defaultValue: '', help: 'Serve v2 requests through the v3 backend under a given prefix. Corvid has no v2 API: a non-empty value is refused.' },
  { section: 'Experimental', name: 'experimental-peer-skip-client-san-verification', kind: 'bool', defaultValue: 'false', help: 'Skip verification of SAN field in client certificate for peer connections.' },
  { section: 'Unsafe', name: 'force-new-cluster', kind: 'bool', defaultValue: 'false', help: 'Force to create a new one-member cluster. Not supported by Corvid yet: true is refused (restore a snapshot with corvid snapshot restore instead).' },
];

export const FLAG_BY_NAME: ReadonlyMap<string, FlagSpec> = new Map(FLAGS.map((f) => [f.name, f]));

/** etcd's environment variable for a flag: ETCD_ + upper snake case. */
export function envNameOf(flagName: string): string {
  return `ETCD_${flagName.toUpperCase().replaceAll('-', '_')}`;
}
