/**
 * `corvid snapshot status <file> [-w simple|json|table]` and `corvid snapshot restore <file>
 * --name --data-dir --wal-dir --initial-cluster --initial-cluster-token --initial-advertise-peer-urls
 * [--skip-hash-check]`: etcdctl's snapshot commands for Corvid's snapshot files (an LMDB copy with
 * etcd's SHA-256 trailer), with etcdctl's output formats and exit codes (0, or 1 with `Error: …`).
 */
import { ConfigError, parseConfig } from '../config/index.js';
import { formatId } from '../cluster/index.js';
import { restoreSnapshot } from '../server/snapshot-restore.js';
import { inspectSnapshotDb, SnapshotFileError, verifySnapshotFile, type SnapshotInfo } from '../storage/snapshot-file.js';
import { createLogger } from '../util/logger.js';

/** The member flags `etcdctl snapshot restore` takes; any other flag is refused, as etcdctl (cobra) refuses it. */
const RESTORE_MEMBER_FLAGS = ['name', 'data-dir', 'wal-dir', 'initial-cluster', 'initial-cluster-token', 'initial-advertise-peer-urls'];

const USAGE = `Usage:
  corvid snapshot status <filename> [-w simple|json|table]
  corvid snapshot restore <filename> [--name] [--data-dir] [--wal-dir] [--initial-cluster] [--initial-cluster-token]
                                     [--initial-advertise-peer-urls] [--skip-hash-check]
`;

/** Runs a `snapshot` subcommand; resolves with the exit code. */
export async function snapshotCommand(argv: readonly string[]): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    if (sub === 'status') return await status(rest);
    if (sub === 'restore') return await restore(rest);
    process.stderr.write(USAGE);
    return sub === undefined || sub === '-h' || sub === '--help' ? 0 : 2;
  } catch (err) {
    if (err instanceof SnapshotFileError || err instanceof ConfigError || (err instanceof Error && err.name === 'BootstrapError')) {
      process.stderr.write(`Error: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

/**
 * Splits `<file>` and the options we handle here from the member flags (`memberFlags`, `--name` style) left for
 * parseConfig; any other flag gets pflag's error, as from etcdctl.
 */
function splitArgs(args: readonly string[], own: readonly string[], memberFlags: readonly string[] = []): { file: string; own: Map<string, string>; rest: string[] } {
  let file: string | undefined;
  const ownValues = new Map<string, string>();
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (!arg.startsWith('-')) {
      if (file !== undefined) throw new ConfigError(`unexpected argument ${arg}`);
      file = arg;
      continue;
    }
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    if (!own.includes(name)) {
      if (!arg.startsWith('--')) throw new ConfigError(`unknown shorthand flag: '${body.charAt(0)}' in ${arg}`);
      if (!memberFlags.includes(name)) throw new ConfigError(`unknown flag: --${name}`);
      rest.push(arg);
      // A member flag's value follows it unless given with '=' (restore takes no boolean member flags).
      const next = args[i + 1];
      if (eq < 0 && next !== undefined && !next.startsWith('-')) rest.push(args[++i] as string);
      continue;
    }
    if (eq >= 0) ownValues.set(name, body.slice(eq + 1));
    else if (name === 'skip-hash-check') ownValues.set(name, 'true');
    else ownValues.set(name, args[++i] ?? '');
  }
  if (file === undefined) throw new ConfigError('snapshot path is required');
  return { file, own: ownValues, rest };
}

async function status(args: readonly string[]): Promise<number> {
  const { file, own } = splitArgs(args, ['w', 'write-out']);
  const format = own.get('w') ?? own.get('write-out') ?? 'simple';
  const info = await inspectSnapshotDb(await verifySnapshotFile(file, true));
  process.stdout.write(formatStatus(info, format));
  return 0;
}

export function formatStatus(info: SnapshotInfo, format: string): string {
  const hash = info.hash.toString(16);
  const size = humanBytes(info.totalSize);
  switch (format) {
    case 'json':
      return `${JSON.stringify({ hash: info.hash, revision: info.revision, totalKey: info.totalKey, totalSize: info.totalSize })}\n`;
    case 'table':
      return table(['HASH', 'REVISION', 'TOTAL KEYS', 'TOTAL SIZE'], [hash, String(info.revision), String(info.totalKey), size]);
    case 'simple':
      return `${hash}, ${info.revision}, ${info.totalKey}, ${size}\n`;
    default:
      throw new ConfigError(`unsupported output format "${format}"`);
  }
}

async function restore(args: readonly string[]): Promise<number> {
  const { file, own, rest } = splitArgs(args, ['skip-hash-check'], RESTORE_MEMBER_FLAGS);
  const parsed = parseConfig(rest, {});
  if (parsed.kind !== 'run') throw new ConfigError('snapshot restore takes member flags only');
  const logger = createLogger('info');
  const progress = process.stderr.isTTY ? progressBar() : undefined;
  logger.info('restoring snapshot', { path: file, 'data-dir': parsed.config.dataDir });
  const result = await restoreSnapshot({
    snapshotPath: file,
    skipHashCheck: own.get('skip-hash-check') === 'true',
    config: parsed.config,
    ...(progress === undefined ? {} : { onProgress: progress }),
  });
  logger.info('restored snapshot', {
    path: file, 'data-dir': parsed.config.dataDir, 'member-id': formatId(result.memberId), 'cluster-id': formatId(result.clusterId), 'applied-index': result.appliedIndex,
  });
  return 0;
}

/** A one-line progress bar on stderr (a terminal only). */
function progressBar(): (phase: string, done: number, total: number) => void {
  return (phase, done, total) => {
    const width = 30;
    const filled = total === 0 ? width : Math.round((done / total) * width);
    process.stderr.write(`\r${phase.padEnd(6)} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${humanBytes(done)} / ${humanBytes(total)}${done >= total ? '\n' : ''}`);
  };
}

/** go-humanize's Bytes, as etcdctl prints sizes: SI units, one decimal below 10. */
export function humanBytes(n: number): string {
  if (n < 10) return `${n} B`;
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  const e = Math.floor(Math.log(n) / Math.log(1000));
  const val = Math.floor((n / 1000 ** e) * 10 + 0.5) / 10;
  return `${val < 10 ? val.toFixed(1) : val.toFixed(0)} ${units[e]}`;
}

/** etcdctl's table writer: centred headers, right-aligned cells, one space of padding. */
function table(headers: readonly string[], row: readonly string[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, (row[i] ?? '').length));
  const line = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+\n`;
  const centre = (s: string, w: number): string => {
    const left = Math.floor((w - s.length) / 2);
    return ' '.repeat(left) + s + ' '.repeat(w - s.length - left);
  };
  const head = `|${headers.map((h, i) => ` ${centre(h, widths[i] ?? 0)} `).join('|')}|\n`;
  const body = `|${row.map((c, i) => ` ${c.padStart(widths[i] ?? 0)} `).join('|')}|\n`;
  return line + head + line + body + line;
}
