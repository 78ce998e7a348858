/** Stable, human-readable text for messages, entries and Ready batches (traces and golden output). */
import type { Entry, HardState, Message, Snapshot } from './messages.js';
import { decodeConfChange } from './messages.js';
import type { Ready } from './ready.js';

export function describeData(data: Uint8Array): string {
  const shown = data.byteLength > 24 ? data.subarray(0, 24) : data;
  let printable = true;
  for (const b of shown) if (b < 0x20 || b > 0x7e) printable = false;
  const body = printable ? JSON.stringify(String.fromCharCode(...shown)) : `0x${[...shown].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
  return data.byteLength > 24 ? `${body}…(${data.byteLength}B)` : body;
}

export function describeEntry(e: Entry): string {
  if (e.type === 'ConfChange') {
    const cc = decodeConfChange(e.data);
    return `${e.term}/${e.index} ${cc.type} ${cc.nodeId}`;
  }
  return `${e.term}/${e.index} EntryNormal ${describeData(e.data)}`;
}

export function describeEntries(es: readonly Entry[]): string {
  return es.map(describeEntry).join(', ');
}

export function describeHardState(hs: HardState): string {
  return `HardState Term:${hs.term} Vote:${hs.vote} Commit:${hs.commit}`;
}

export function describeSnapshot(s: Snapshot): string {
  const m = s.metadata;
  return `Snapshot Index:${m.index} Term:${m.term} Voters:[${m.confState.voters.join(' ')}] Learners:[${m.confState.learners.join(' ')}]`;
}

export function describeMessage(m: Message): string {
  let s = `${m.from}->${m.to} ${m.type} Term:${m.term} Log:${m.logTerm}/${m.index}`;
  if (m.reject) s += ` Rejected (Hint: ${m.rejectHint})`;
  if (m.commit !== 0) s += ` Commit:${m.commit}`;
  if (m.entries.length > 0) s += ` Entries:[${describeEntries(m.entries)}]`;
  if (m.snapshot !== null) s += ` ${describeSnapshot(m.snapshot)}`;
  if (m.context !== null && m.context.byteLength > 0) s += ` Context:${describeData(m.context)}`;
  return s;
}

export function describeReady(rd: Ready): string {
  const lines: string[] = [];
  if (rd.softState !== null) lines.push(`Lead:${rd.softState.lead} State:${rd.softState.role}`);
  if (rd.hardState !== null) lines.push(describeHardState(rd.hardState));
  if (rd.readStates.length > 0) lines.push(`ReadStates: ${rd.readStates.map((r) => `${r.index}:${describeData(r.requestCtx)}`).join(', ')}`);
  if (rd.entries.length > 0) lines.push(`Entries: ${describeEntries(rd.entries)}`);
  if (rd.snapshot !== null) lines.push(describeSnapshot(rd.snapshot));
  if (rd.committedEntries.length > 0) lines.push(`CommittedEntries: ${describeEntries(rd.committedEntries)}`);
  for (const m of rd.messages) lines.push(`Message: ${describeMessage(m)}`);
  return lines.length === 0 ? '<empty Ready>' : lines.join('\n');
}
