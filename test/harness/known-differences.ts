/**
 * Differences from etcd 3.4 that Corvid has today, each with its reason. A comparison named here
 * runs against Corvid as `test.failing`: it still runs, passes while the difference lasts, and
 * fails the day Corvid matches etcd (then delete its line). Against etcd itself
 * (CORVID_TEST_SUBJECT=etcd) every comparison runs as a plain test.
 */
import { SUBJECT } from './processes.js';

const LONG_KEYS = "keys over ~1,965 bytes do not fit LMDB's key size limit (docs/storage.md, 'Key size')";
const GRPC_JS_WORDING = "grpc-js refuses unknown services and methods in its own words before any handler runs";

export const KNOWN_DIFFERENCES: ReadonlyMap<string, string> = new Map([
  ['unknown method of a known service', GRPC_JS_WORDING],
  ['unknown service', GRPC_JS_WORDING],
  ['a 3000-byte key round-trips', LONG_KEYS],
  ['a 100000-byte key round-trips', LONG_KEYS],
]);

/** Splits table rows into the comparisons expected to match and the known differences. */
export function splitKnown<Row>(rows: readonly Row[], nameOf: (row: Row) => string): { readonly matching: Row[]; readonly known: Row[] } {
  const isKnown = (row: Row): boolean => SUBJECT === 'corvid' && KNOWN_DIFFERENCES.has(nameOf(row));
  return { matching: rows.filter((row) => !isKnown(row)), known: rows.filter(isKnown) };
}
