/**
 * Goal: the etcd 3.4 flags parsed after the flag package — auto-compaction retention, log outputs, refusals — give
 * etcd's values and etcd's words (the differential flags test checks the words against etcd itself; this pins
 * the values, which a start cannot show).
 * Method: parseConfig on command lines, then autoCompactionOf / logOutputsOf / verifyConfig.
 */
import { expect, it } from '@jest/globals';
import { autoCompactionOf, ConfigError, logOutputsOf, parseConfig, verifyConfig, type Config } from '../../src/config/index.js';

function configOf(...argv: string[]): Config {
  const outcome = parseConfig(argv, {});
  if (outcome.kind !== 'run') throw new Error('not a run');
  return outcome.config;
}

it("reads --auto-compaction-retention as etcd's parseCompactionRetention", () => {
  const policy = (mode: string, retention: string): unknown => autoCompactionOf(configOf('--auto-compaction-mode', mode, '--auto-compaction-retention', retention));
  expect(policy('periodic', '0')).toEqual({ mode: 'off' });
  expect(policy('periodic', '1')).toEqual({ mode: 'periodic', retentionMs: 3_600_000 });
  expect(policy('periodic', '90m')).toEqual({ mode: 'periodic', retentionMs: 5_400_000 });
  expect(policy('periodic', '2s')).toEqual({ mode: 'periodic', retentionMs: 2_000 });
  expect(policy('revision', '1000')).toEqual({ mode: 'revision', retentionRevisions: 1000 });
  // etcd takes a duration in revision mode as nanoseconds.
  expect(policy('revision', '1us')).toEqual({ mode: 'revision', retentionRevisions: 1000 });
  expect(autoCompactionOf(configOf())).toEqual({ mode: 'off' });
  expect(() => policy('periodic', 'abc')).toThrow(new ConfigError('error parsing CompactionRetention: time: invalid duration "abc"'));
  expect(() => policy('hourly', '1')).toThrow(new ConfigError(`error verifying flags, unknown auto-compaction-mode "hourly". See 'etcd --help'.`));
});

it("takes etcd's --log-outputs per --logger", () => {
  expect(logOutputsOf(configOf())).toEqual(['stderr']);
  expect(logOutputsOf(configOf('--logger', 'zap', '--log-outputs', 'stdout,/tmp/x.log'))).toEqual(['stdout', '/tmp/x.log']);
  expect(() => logOutputsOf(configOf('--log-outputs', '/tmp/x.log'))).toThrow(ConfigError);
});

it('refuses at verification what Corvid does not do, and only when asked for', () => {
  expect(() => verifyConfig(configOf('--enable-v2=false', '--host-whitelist', '*', '--proxy', 'off'))).not.toThrow();
  expect(() => verifyConfig(configOf('--force-new-cluster'))).toThrow(/^error verifying flags, --force-new-cluster=true is not supported by Corvid/);
  expect(() => verifyConfig(configOf('--peer-auto-tls'))).toThrow(/--peer-auto-tls=true is not supported by Corvid/);
});

it("maps --cipher-suites onto OpenSSL's names, refusing an unknown name in etcd's words", () => {
  const c = configOf('--cipher-suites', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_AES_128_GCM_SHA256,TLS_RSA_WITH_AES_256_GCM_SHA384');
  expect([c.clientTls.ciphers, c.peerTls.ciphers]).toEqual(['ECDHE-RSA-AES128-GCM-SHA256:AES256-GCM-SHA384', 'ECDHE-RSA-AES128-GCM-SHA256:AES256-GCM-SHA384']);
  expect(configOf().clientTls.ciphers).toBe('');
  expect(() => verifyConfig(configOf('--cipher-suites', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,FOO'))).toThrow(new ConfigError('unexpected TLS cipher suite "FOO"'));
});

it('--debug is --log-level debug; --pre-vote, --strict-reconfig-check and the gRPC limits reach the config', () => {
  expect(configOf('--debug').logLevel).toBe('debug');
  expect([configOf().compactionBatchLimit, configOf('--experimental-compaction-batch-limit', '500').compactionBatchLimit]).toEqual([100, 500]);
  expect([configOf().warningApplyDurationMs, configOf('--experimental-warning-apply-duration', '1.5s').warningApplyDurationMs]).toEqual([100, 1500]);
  const c = configOf('--pre-vote', '--strict-reconfig-check=false', '--max-concurrent-streams', '7', '--grpc-keepalive-interval', '0');
  expect([c.preVote, c.strictReconfigCheck, c.grpc]).toEqual([true, false, { maxConcurrentStreams: 7, keepaliveMinTimeMs: 5_000, keepaliveIntervalMs: 0, keepaliveTimeoutMs: 20_000 }]);
});
