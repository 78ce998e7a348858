// Goal: flags and ETCD_* environment variables parse the way etcd 3.4 parses them.
// Method: feed argv/env to parseConfig and check the typed Config or the error text.
import { ConfigError, parseConfig, verifyConfig, type Config } from '../../src/config/index.js';

function run(argv: string[], env: Record<string, string> = {}): Config {
  const outcome = parseConfig(argv, env);
  if (outcome.kind !== 'run') throw new Error(`expected run, got ${outcome.kind}`);
  return outcome.config;
}

describe('parseConfig', () => {
  it('uses etcd defaults', () => {
    const c = run([]);
    expect(c.name).toBe('default');
    expect(c.dataDir).toBe('default.etcd');
    expect(c.maxRequestBytes).toBe(1572864);
    expect(c.maxTxnOps).toBe(128);
    expect(c.listenClientUrls.map(String)).toEqual(['http://localhost:2379']);
  });

  it('accepts --a=b, --a b and -a b', () => {
    const c = run(['--name=n1', '--data-dir', '/tmp/x', '-max-txn-ops', '4']);
    expect([c.name, c.dataDir, c.maxTxnOps]).toEqual(['n1', '/tmp/x', 4]);
  });

  it('derives the data dir from the name', () => {
    expect(run(['--name', 'infra1']).dataDir).toBe('infra1.etcd');
  });

  it('reads ETCD_* variables, and a flag shadows its variable', () => {
    const env = { ETCD_NAME: 'from-env', ETCD_MAX_REQUEST_BYTES: '1024' };
    expect(run([], env).name).toBe('from-env');
    expect(run([], env).maxRequestBytes).toBe(1024);
    expect(run(['--name', 'from-flag'], env).name).toBe('from-flag');
  });

  it('splits URL lists', () => {
    const c = run(['--listen-client-urls', 'http://127.0.0.1:1,http://127.0.0.1:2']);
    expect(c.listenClientUrls).toEqual(['http://127.0.0.1:1', 'http://127.0.0.1:2']);
  });

  it('rejects unknown flags and bad values as etcd does', () => {
    expect(() => run(['--no-such-flag'])).toThrow(new ConfigError('flag provided but not defined: -no-such-flag'));
    expect(() => run(['--max-txn-ops', 'x'])).toThrow(ConfigError);
    expect(() => run(['--name'])).toThrow('flag needs an argument: -name');
  });

  it('recognises --help and --version', () => {
    expect(parseConfig(['--help'], {}).kind).toBe('help');
    expect(parseConfig(['-h'], {}).kind).toBe('help');
    expect(parseConfig(['--version'], {}).kind).toBe('version');
  });

  it('derives --initial-cluster from the name and advertised peer URLs, as etcd', () => {
    expect(run([]).initialCluster).toEqual([{ name: 'default', peerUrls: ['http://localhost:2380'] }]);
    const c = run(['--name', 'n1', '--initial-advertise-peer-urls', 'http://127.0.0.1:7001']);
    expect(c.initialCluster).toEqual([{ name: 'n1', peerUrls: ['http://127.0.0.1:7001'] }]);
    const listed = run(['--initial-cluster', 'a=http://127.0.0.1:1,b=http://127.0.0.1:2,a=http://127.0.0.1:3']);
    expect(listed.initialCluster).toEqual([
      { name: 'a', peerUrls: ['http://127.0.0.1:1', 'http://127.0.0.1:3'] },
      { name: 'b', peerUrls: ['http://127.0.0.1:2'] },
    ]);
  });

  it('checks URLs in etcd\'s order: scheme, host:port, path', () => {
    expect(() => run(['--listen-client-urls', 'foo'])).toThrow('invalid value "foo" for flag -listen-client-urls: URL scheme must be http, https, unix, or unixs: foo');
    expect(() => run(['--listen-client-urls', 'http://127.0.0.1'])).toThrow('URL address does not have the form "host:port": http://127.0.0.1');
    expect(() => run(['--listen-client-urls', 'http://127.0.0.1:2379/x'])).toThrow('URL must not contain a path: http://127.0.0.1:2379/x');
    expect(run(['--listen-client-urls', 'http://[::1]:80']).listenClientUrls).toEqual(['http://[::1]:80']);
  });

  it('accepts only new or existing as --initial-cluster-state', () => {
    expect(run(['--initial-cluster-state', 'existing']).initialClusterState).toBe('existing');
    expect(() => run(['--initial-cluster-state', 'bogus'])).toThrow('invalid value "bogus" for flag -initial-cluster-state: invalid value');
  });

  it('reads the Raft timing flags with etcd\'s defaults', () => {
    const c = run([]);
    expect([c.heartbeatIntervalMs, c.electionTimeoutMs, c.snapshotCount]).toEqual([100, 1000, 100000]);
    const t = run(['--heartbeat-interval', '50', '--election-timeout=500'], { ETCD_SNAPSHOT_COUNT: '10' });
    expect([t.heartbeatIntervalMs, t.electionTimeoutMs, t.snapshotCount]).toEqual([50, 500, 10]);
    expect(() => run(['--snapshot-count', 'abc'])).toThrow('invalid value "abc" for flag -snapshot-count: parse error');
  });

  it('verifies the Raft timing flags with etcd\'s words (etcd 3.4, embed.Config.Validate)', () => {
    const verify = (argv: string[]): void => verifyConfig(run(argv));
    expect(() => verify([])).not.toThrow();
    expect(() => verify(['--heartbeat-interval', '100', '--election-timeout', '200'])).toThrow(
      "error verifying flags, --election-timeout[200ms] should be at least as 5 times as --heartbeat-interval[100ms]. See 'etcd --help'.",
    );
    expect(() => verify(['--heartbeat-interval', '300'])).toThrow('--election-timeout[1000ms] should be at least as 5 times as --heartbeat-interval[300ms]');
    expect(() => verify(['--heartbeat-interval', '0'])).toThrow('--heartbeat-interval must be >0 (set to 0ms)');
    expect(() => verify(['--election-timeout', '0'])).toThrow('--election-timeout must be >0 (set to 0ms)');
    expect(() => verify(['--election-timeout', '50001'])).toThrow('--election-timeout[50001ms] is too long, and should be set less than 50000ms');
    expect(() => verify(['--election-timeout', '200'])).toThrow(ConfigError);
  });

  it('reads the lease checkpoint flags: on by default in Corvid, Go booleans and durations, persist needs checkpoints', () => {
    expect([run([]).leaseCheckpointEnabled, run([]).leaseCheckpointIntervalMs]).toEqual([true, 300_000]);
    expect(run(['--experimental-enable-lease-checkpoint=false']).leaseCheckpointEnabled).toBe(false);
    expect(run(['--experimental-enable-lease-checkpoint']).leaseCheckpointEnabled).toBe(true);
    expect(run(['--experimental-lease-checkpoint-interval=1m30s']).leaseCheckpointIntervalMs).toBe(90_000);
    expect(run(['--experimental-lease-checkpoint-interval', '250ms']).leaseCheckpointIntervalMs).toBe(250);
    expect(() => run(['--experimental-enable-lease-checkpoint=maybe'])).toThrow('invalid boolean value "maybe" for -experimental-enable-lease-checkpoint: parse error');
    expect(() => run(['--experimental-lease-checkpoint-interval=5'])).toThrow('invalid value "5" for flag -experimental-lease-checkpoint-interval: parse error');
    expect(() => verifyConfig(run(['--experimental-enable-lease-checkpoint-persist']))).not.toThrow();
    expect(() => verifyConfig(run(['--experimental-enable-lease-checkpoint=false', '--experimental-enable-lease-checkpoint-persist']))).toThrow(
      "error verifying flags, setting experimental-enable-lease-checkpoint-persist requires experimental-enable-lease-checkpoint. See 'etcd --help'.",
    );
  });

  it('reads --quota-backend-bytes as etcd\'s int64: negative switches the quota off', () => {
    expect(run(['--quota-backend-bytes', '-1']).quotaBackendBytes).toBe(-1);
    expect(run(['--quota-backend-bytes=1024']).quotaBackendBytes).toBe(1024);
    expect(() => run(['--quota-backend-bytes', '-x'])).toThrow('invalid value "-x" for flag -quota-backend-bytes: parse error');
  });
});
