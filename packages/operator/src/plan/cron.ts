/**
 * Five-field cron (minute hour day-of-month month day-of-week, UTC) as in Kubernetes CronJob: `*`, lists,
 * ranges, steps (`*\/5`, `1-10/2`). `latestTick` answers "which scheduled minute, if any, fell in (after, now]?",
 * which is all a level-based scheduler needs: a run is due when that minute is newer than the last run.
 */
const FIELD_RANGES: readonly (readonly [number, number])[] = [
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 6],
];
const MINUTE_MS = 60_000;
/** Look back at most this far; an operator down longer than this catches up with one run, not many. */
const LOOKBACK_MINUTES = 366 * 24 * 60;

export interface Cron {
  readonly fields: readonly (readonly boolean[])[];
}

export function parseCron(expression: string): Cron {
  const parts = expression.trim().split(/\s+/u);
  if (parts.length !== 5) throw new Error(`cron "${expression}": want 5 fields, got ${parts.length}`);
  const fields = parts.map((part, i) => {
    const [lo, hi] = FIELD_RANGES[i] as readonly [number, number];
    const allowed = new Array<boolean>(hi + 1).fill(false);
    for (const item of part.split(',')) {
      const m = item.match(/^(\*|\d+(?:-\d+)?)(?:\/(\d+))?$/u);
      if (m === null) throw new Error(`cron "${expression}": bad field "${item}"`);
      const [, range, stepText] = m as unknown as [string, string, string | undefined];
      let from = lo;
      let to = hi;
      if (range !== '*') {
        const [a, b] = range.split('-').map(Number) as [number, number | undefined];
        from = a;
        to = b ?? (stepText === undefined ? a : hi);
      }
      const step = stepText === undefined ? 1 : Number(stepText);
      if (from < lo || to > hi || from > to || step < 1) throw new Error(`cron "${expression}": "${item}" out of range ${lo}-${hi}`);
      for (let v = from; v <= to; v += step) allowed[v] = true;
    }
    return allowed;
  });
  return { fields };
}

function matches(cron: Cron, t: Date): boolean {
  const values = [t.getUTCMinutes(), t.getUTCHours(), t.getUTCDate(), t.getUTCMonth() + 1, t.getUTCDay()];
  return values.every((v, i) => (cron.fields[i] as readonly boolean[])[v] === true);
}

/** The newest scheduled minute in (afterMs, nowMs], or undefined. */
export function latestTick(cron: Cron, afterMs: number, nowMs: number): number | undefined {
  let t = Math.floor(nowMs / MINUTE_MS) * MINUTE_MS;
  const floor = Math.max(afterMs, nowMs - LOOKBACK_MINUTES * MINUTE_MS);
  for (; t > floor; t -= MINUTE_MS) {
    if (matches(cron, new Date(t))) return t;
  }
  return undefined;
}

/** Go-style duration with one unit (`90s`, `30m`, `1h`; bare numbers are hours, as etcd's periodic retention). */
export function parseRetentionMs(text: string): number {
  const m = text.match(/^(\d+)(s|m|h)?$/u);
  if (m === null) throw new Error(`retention "${text}": want a number with s, m or h`);
  const n = Number(m[1]);
  const unit = m[2] ?? 'h';
  return n * (unit === 's' ? 1_000 : unit === 'm' ? 60_000 : 3_600_000);
}
