/**
 * Masks what legitimately differs between two members that behave the same: cluster and member ids, ports, the
 * etcdctl client's log timestamps and connection ids, and (for `endpoint status`) the storage and raft internals.
 * A masked value keeps its shape: a number becomes <n> only if it was a number, a version 3.4.x only if it was one,
 * so an empty or malformed field still shows up as a difference. Revisions are never masked.
 */
import type { EtcdctlResult } from './etcdctl.js';

/** `ids` is always applied; `status` also masks what `endpoint status` reports about storage and raft. */
export type MaskName = 'ids' | 'status';

const ID_MASKS: ReadonlyArray<readonly [RegExp, string]> = [
  // Numbers in etcdctl's JSON, strings in the JSON gateway's.
  [/"(cluster_id|member_id|ID)":"?\d+"?/g, '"$1":"<id>"'],
  [/"(ClusterID|MemberID)" : \d+/g, '"$1" : <id>'],
  [/127\.0\.0\.1:\d+/g, '127.0.0.1:<port>'],
  // etcdctl's own zap log lines on stderr (retry warnings): timestamp and per-process client id.
  [/"ts":"[^"]*"/g, '"ts":"<ts>"'],
  [/endpoint:\/\/client-[0-9a-f-]+\//g, 'endpoint://client-<uuid>/'],
  // `endpoint health`: "successfully committed proposal: took = 1.234ms".
  [/took = [0-9.]+[µnm]?s/g, 'took = <duration>'],
];

const STATUS_MASKS: ReadonlyArray<readonly [RegExp, string]> = [
  [/"(leader|dbSize|dbSizeInUse|raftIndex|raftAppliedIndex|hash)":"?\d+"?/g, '"$1":"<n>"'],
  [/"(Leader|DBSize|DBSizeInUse|RaftIndex|RaftAppliedIndex)" : \d+/g, '"$1" : <n>'],
  [/"(version|Version)"( ?: ?)"3\.4\.\d+"/g, '"$1"$2"3.4.x"'],
];

/** Columns of `endpoint status -w table|simple` that depend on the member, by header name. */
const STATUS_COLUMNS: ReadonlyMap<string, RegExp> = new Map([
  ['ID', /^[0-9a-f]{1,16}$/],
  ['VERSION', /^3\.4\.\d+$/],
  ['DB SIZE', /^\d+(\.\d+)? [kMG]?B$/],
  ['RAFT INDEX', /^\d+$/],
  ['RAFT APPLIED INDEX', /^\d+$/],
]);
const STATUS_HEADERS = ['ENDPOINT', 'ID', 'VERSION', 'DB SIZE', 'IS LEADER', 'IS LEARNER', 'RAFT TERM', 'RAFT INDEX', 'RAFT APPLIED INDEX', 'ERRORS'];

export function maskText(text: string, masks: readonly MaskName[]): string {
  let out = text;
  for (const [re, to] of ID_MASKS) out = out.replace(re, to);
  if (masks.includes('status')) {
    for (const [re, to] of STATUS_MASKS) out = out.replace(re, to);
    out = maskStatusTable(out);
  }
  return prettyJson(out);
}

/** Masks an etcdctl result; stdout that is one JSON document is pretty-printed so a diff is line by line. */
export function maskResult(result: EtcdctlResult, masks: readonly MaskName[]): EtcdctlResult {
  return { code: result.code, stdout: maskText(result.stdout, masks), stderr: maskText(result.stderr, masks) };
}

function prettyJson(text: string): string {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return text;
  try {
    return JSON.stringify(JSON.parse(trimmed), null, 2);
  } catch {
    return text; // not one JSON document (e.g. several log lines): compare as text
  }
}

/**
 * `endpoint status` as a table or as simple comma-separated text: re-rendered as `cell | cell` rows (so column
 * widths, which follow the masked values, do not matter) with member-dependent cells replaced by their shape.
 */
function maskStatusTable(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      if (/^\+[-+]+\+$/.test(line)) return '';
      const cells = line.startsWith('|')
        ? line.split('|').slice(1, -1).map((c) => c.trim())
        : line.includes(', ') ? line.split(', ').map((c) => c.trim()) : null;
      if (cells === null || cells.length < STATUS_HEADERS.length - 1) return line;
      if (cells[0] === 'ENDPOINT') return cells.join(' | ');
      return cells
        .map((cell, i) => {
          const header = STATUS_HEADERS[i] ?? '';
          const shape = STATUS_COLUMNS.get(header);
          if (shape === undefined) return cell;
          return shape.test(cell) ? `<${header.toLowerCase()}>` : cell;
        })
        .join(' | ');
    })
    .filter((line) => line !== '')
    .join('\n');
}
