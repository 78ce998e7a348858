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
  readonly section: 'Member' | 'Clustering' | 'Security' | 'Auth' | 'Logging' | 'Profiling and Monitoring';
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
  { section: 'Clustering', name: 'advertise-client-urls', kind: 'urls', defaultValue: 'http://localhost:2379', help: 'List of this member\'s client URLs to advertise to the public.' },
  { section: 'Clustering', name: 'initial-cluster', kind: 'string', defaultValue: 'default=http://localhost:2380', help: 'Initial cluster configuration for bootstrapping.' },
  { section: 'Clustering', name: 'initial-cluster-state', kind: 'string', defaultValue: 'new', help: "Initial cluster state ('new' or 'existing')." },
  { section: 'Clustering', name: 'initial-cluster-token', kind: 'string', defaultValue: 'etcd-cluster', help: 'Initial cluster token for the etcd cluster during bootstrap.' },
  { section: 'Clustering', name: 'initial-advertise-peer-urls', kind: 'urls', defaultValue: 'http://localhost:2380', help: 'List of this member\'s peer URLs to advertise to the rest of the cluster.' },
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
  { section: 'Auth', name: 'auth-token', kind: 'string', defaultValue: 'simple', help: "Specify a v3 authentication token type and its options ('simple' or 'jwt')." },
  { section: 'Auth', name: 'auth-token-ttl', kind: 'int', defaultValue: '300', help: 'The lifetime in seconds of the auth token.' },
  { section: 'Logging', name: 'log-level', kind: 'string', defaultValue: 'info', help: 'Configures log level. Only supports debug, info, warn, error, panic, or fatal.' },
];

export const FLAG_BY_NAME: ReadonlyMap<string, FlagSpec> = new Map(FLAGS.map((f) => [f.name, f]));

/** etcd's environment variable for a flag: ETCD_ + upper snake case. */
export function envNameOf(flagName: string): string {
  return `ETCD_${flagName.toUpperCase().replaceAll('-', '_')}`;
}
