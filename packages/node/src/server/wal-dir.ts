/**
 * --wal-dir: the WAL in a directory of its own (etcd's dedicated WAL directory, often another
 * disk). Corvid's WAL is an LMDB environment that raft-driver/wal.ts opens at
 * `<data-dir>/member/wal`; with --wal-dir that path becomes a symbolic link to the directory, so
 * the environment's files live there. A member whose WAL is already in `<data-dir>/member/wal`
 * (started before without --wal-dir) is not moved silently: the start fails and says what to do.
 */
import { lstatSync, mkdirSync, readdirSync, realpathSync, rmdirSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '../config/index.js';

/** Makes `<dataDir>/member/wal` lead to `walDir` ('' : nothing to do). */
export function linkWalDir(dataDir: string, walDir: string): void {
  if (walDir === '') return;
  const target = resolve(walDir);
  const link = join(dataDir, 'member', 'wal');
  if (resolve(link) === target) return;
  mkdirSync(target, { recursive: true });
  mkdirSync(join(dataDir, 'member'), { recursive: true });
  let stat;
  try {
    stat = lstatSync(link);
  } catch {
    symlinkSync(target, link, 'dir');
    return;
  }
  if (stat.isSymbolicLink()) {
    const current = realpathSync(link);
    if (current !== realpathSync(target)) throw new ConfigError(`--wal-dir ${walDir}: this member's WAL is in ${current} (${link} leads there)`);
    return;
  }
  if (!stat.isDirectory() || readdirSync(link).length > 0) {
    throw new ConfigError(`--wal-dir ${walDir}: this member's WAL is in ${link}; stop the member and move that directory's files to ${walDir} first`);
  }
  rmdirSync(link);
  symlinkSync(target, link, 'dir');
}
