// A progress line on stderr while a run is under way, only when stderr is a terminal: a bar over the warm-up and
// measured window for timed runs, elapsed seconds for --total runs. Redrawn every 200 ms, erased at the end.

const REDRAW_MS = 200;
const BAR_WIDTH = 30;

/** The line for `elapsedSeconds` into a run of `plannedSeconds` (0 = a --total run of unknown length). */
export function progressLine(elapsedSeconds: number, plannedSeconds: number): string {
  if (plannedSeconds <= 0) return `running… ${elapsedSeconds.toFixed(1)} s`;
  const share = Math.min(1, elapsedSeconds / plannedSeconds);
  const filled = Math.round(share * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${' '.repeat(BAR_WIDTH - filled)}] ${Math.round(share * 100)}% ${elapsedSeconds.toFixed(1)}/${plannedSeconds} s`;
}

/** Starts drawing; the returned function stops and erases the line. A no-op when stderr is not a TTY. */
export function startProgress(plannedSeconds: number): () => void {
  const out = process.stderr;
  if (!out.isTTY) return () => undefined;
  const t0 = performance.now();
  const draw = (): void => {
    out.write(`\r${progressLine((performance.now() - t0) / 1000, plannedSeconds)}\x1b[K`);
  };
  const timer = setInterval(draw, REDRAW_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    out.write('\r\x1b[K');
  };
}
