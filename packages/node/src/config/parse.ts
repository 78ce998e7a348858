/** Go's flag-package parsers, with their error words, for the flag values etcd 3.4 takes. */
import { ConfigError } from './errors.js';

export function parseInt64(flag: string, value: string): number {
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new ConfigError(`invalid value "${value}" for flag -${flag}: parse error`);
  }
  return Number(value);
}

export function parseNonNegativeInt(flag: string, value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new ConfigError(`invalid value "${value}" for flag -${flag}: parse error`);
  }
  return Number(value);
}

/** Go's flag.Uint-style parse with 32 bits (strconv.ParseUint's words). */
export function parseUint32(flag: string, value: string): number {
  const fail = (why: string): never => {
    throw new ConfigError(`invalid value "${value}" for flag -${flag}: strconv.ParseUint: parsing "${value}": ${why}`);
  };
  if (!/^\d+$/.test(value)) fail('invalid syntax');
  return Number(value) > 0xffffffff ? fail('value out of range') : Number(value);
}

/** Go's strconv.ParseBool, as the flag package takes booleans (`invalid boolean value ...`). */
export function parseBool(flag: string, value: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw new ConfigError(`invalid boolean value "${value}" for -${flag}: parse error`);
}

const DURATION_UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration ("5m0s", "1.5s", "300ms"), in milliseconds; undefined if it is not one (negative values included). */
export function goDurationMs(value: string): number | undefined {
  if (value === '0') return 0;
  const parts = [...value.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== value) return undefined;
  const ms = parts.reduce((sum, p) => sum + Number(p[1]) * (DURATION_UNIT_MS[p[2] as string] as number), 0);
  return Number.isFinite(ms) ? ms : undefined;
}

/** A duration flag's value in ms; the flag package's words when it is not one. */
export function parseDurationMs(flag: string, value: string): number {
  const ms = goDurationMs(value);
  if (ms === undefined) throw new ConfigError(`invalid value "${value}" for flag -${flag}: parse error`);
  return ms;
}
