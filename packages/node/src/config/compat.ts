/**
 * etcd 3.4 flags whose values etcd checks after parsing (exit 1), the ones Corvid accepts without
 * effect (syntax checked as etcd's), and the ones it refuses because accepting them silently would
 * mislead (docs/cluster.md lists each).
 */
import { ConfigError } from './errors.js';
import { goDurationMs, parseBool, parseDurationMs, parseNonNegativeInt } from './parse.js';

/** The flags with a value Corvid does not serve, and why; checked by verifyConfig (exit 1). */
const REFUSALS: ReadonlyArray<{ readonly flag: string; readonly refuses: (value: string) => boolean; readonly why: string }> = [
  { flag: 'enable-v2', refuses: (v) => parseBool('enable-v2', v), why: 'Corvid has no v2 API' },
  { flag: 'enable-pprof', refuses: (v) => parseBool('enable-pprof', v), why: 'Corvid has no Go pprof endpoints' },
  { flag: 'force-new-cluster', refuses: (v) => parseBool('force-new-cluster', v), why: 'restore a snapshot (corvid snapshot restore) into a new one-member cluster instead' },
  { flag: 'peer-auto-tls', refuses: (v) => parseBool('peer-auto-tls', v), why: 'give --peer-cert-file and --peer-key-file' },
  // Corvid always sends etcd's CORS headers for '*': a narrower list would not be honoured.
  { flag: 'cors', refuses: (v) => v !== '' && v !== '*', why: "CORS headers always allow '*'" },
  { flag: 'proxy', refuses: (v) => v !== 'off', why: 'Corvid has no v2 proxy' },
  { flag: 'experimental-enable-v2v3', refuses: nonEmpty, why: 'Corvid has no v2 API' },
  { flag: 'discovery', refuses: nonEmpty, why: 'bootstrap with --initial-cluster' },
  { flag: 'discovery-srv', refuses: nonEmpty, why: 'bootstrap with --initial-cluster' },
  { flag: 'discovery-proxy', refuses: nonEmpty, why: 'bootstrap with --initial-cluster' },
];

function nonEmpty(value: string): boolean {
  return value.length > 0;
}

/** "--flag=value is not supported by Corvid (why)" for each flag given a value Corvid refuses (a bad boolean fails here, at parse, as with Go's flag package). */
export function refusedFlags(raw: ReadonlyMap<string, string>): string[] {
  return REFUSALS.filter((r) => r.refuses(raw.get(r.flag) ?? '')).map((r) => `--${r.flag}=${raw.get(r.flag) ?? ''} is not supported by Corvid (${r.why})`);
}

/** Flags accepted without effect: their values are still checked as etcd's flag package does (exit 2). */
export function checkAcceptedValues(raw: ReadonlyMap<string, string>): void {
  const ints = ['max-snapshots', 'max-wals', 'backend-batch-limit', 'proxy-failure-wait', 'proxy-refresh-interval', 'proxy-dial-timeout', 'proxy-write-timeout', 'proxy-read-timeout'];
  for (const flag of ints) parseNonNegativeInt(flag, raw.get(flag) ?? '0');
  const proxy = raw.get('proxy') ?? 'off';
  if (!['off', 'readonly', 'on'].includes(proxy)) throw new ConfigError(`invalid value "${proxy}" for flag -proxy: invalid value`);
  parseBool('experimental-peer-skip-client-san-verification', raw.get('experimental-peer-skip-client-san-verification') ?? 'false');
  const batchInterval = raw.get('backend-batch-interval') ?? '';
  if (batchInterval !== '') parseDurationMs('backend-batch-interval', batchInterval);
  parseBool('initial-election-tick-advance', raw.get('initial-election-tick-advance') ?? 'true');
}

export type AutoCompaction =
  | { readonly mode: 'off' }
  | { readonly mode: 'periodic'; readonly retentionMs: number }
  | { readonly mode: 'revision'; readonly retentionRevisions: number };

/** etcd's --auto-compaction-mode check (embed.Config.Validate), with its words. */
export function checkAutoCompactionMode(mode: string): string | undefined {
  return mode === 'periodic' || mode === 'revision' ? undefined : `unknown auto-compaction-mode "${mode}"`;
}

/**
 * etcd's parseCompactionRetention: a whole number is hours (periodic) or revisions (revision);
 * anything else is a Go duration, which revision mode takes as a count of nanoseconds, as etcd's.
 * 0 switches auto-compaction off. Errors are etcd's start-up failure (exit 1).
 */
export function autoCompactionOf(config: { readonly autoCompaction: { readonly mode: string; readonly retention: string } }): AutoCompaction {
  const { mode, retention } = config.autoCompaction;
  const modeError = checkAutoCompactionMode(mode);
  if (modeError !== undefined) throw new ConfigError(`error verifying flags, ${modeError}. See 'etcd --help'.`);
  let hoursOrRevisions: number | undefined;
  if (/^[+-]?\d+$/.test(retention) && Number(retention) >= 0) hoursOrRevisions = Number(retention);
  let retentionMs = hoursOrRevisions === undefined ? goDurationMs(retention) : hoursOrRevisions * 3_600_000;
  if (retentionMs === undefined) {
    const why = /^[+-]?[\d.]+$/.test(retention) ? 'missing unit in duration' : 'invalid duration';
    throw new ConfigError(`error parsing CompactionRetention: time: ${why} "${retention}"`);
  }
  if (mode === 'revision') {
    const revisions = hoursOrRevisions ?? Math.round(retentionMs * 1e6);
    return revisions === 0 ? { mode: 'off' } : { mode, retentionRevisions: revisions };
  }
  retentionMs = Math.floor(retentionMs);
  return retentionMs === 0 ? { mode: 'off' } : { mode: 'periodic', retentionMs };
}

/** The --log-outputs etcd 3.4 takes: 'default', 'stderr', 'stdout'; with --logger zap, file paths too. */
export function logOutputsOf(config: { readonly logger: string; readonly logOutputs: readonly string[] }): string[] {
  const fail = (why: string): never => {
    throw new ConfigError(`error verifying flags, ${why}. See 'etcd --help'.`);
  };
  if (config.logger !== 'zap' && config.logger !== 'capnslog') fail(`unknown logger option "${config.logger}"`);
  const outputs = config.logOutputs.length === 0 ? ['default'] : [...config.logOutputs];
  if (config.logger === 'capnslog' && outputs.length > 1) {
    fail(`--logger=capnslog supports only 1 value in '--log-outputs', got [${[...outputs].sort().map((o) => JSON.stringify(o)).join(' ')}]`);
  }
  if (config.logger === 'capnslog') {
    for (const o of outputs) if (!['default', 'stderr', 'stdout'].includes(o)) fail(`unknown log-output "${o}" (only supports "default", "stderr", "stdout")`);
  }
  return outputs.map((o) => (o === 'default' ? 'stderr' : o));
}
