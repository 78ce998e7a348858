/**
 * --log-outputs: where log lines go — 'stderr', 'stdout', or files opened for appending (etcd's
 * zap sinks). Files are opened at start, so a bad path stops the start as etcd's "open sink".
 */
import { openSync, writeSync } from 'node:fs';

export function openLogOutputs(outputs: readonly string[]): (line: string) => void {
  const fds = outputs.map((o) => {
    if (o === 'stderr') return 2;
    if (o === 'stdout') return 1;
    try {
      return openSync(o, 'a');
    } catch (err) {
      // Go's words: 'open <path>: no such file or directory' (Node's: 'ENOENT: no such file or directory, open ...').
      const why = /^[A-Z]+: ([^,]+),/.exec(err instanceof Error ? err.message : '')?.[1] ?? String(err);
      throw new Error(`open sink "${o}": open ${o}: ${why}`, { cause: err });
    }
  });
  return (line) => {
    for (const fd of fds) writeSync(fd, line);
  };
}
