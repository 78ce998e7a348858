// Goal: describe.ts produces stable, readable text for traces and golden output; conf changes round-trip
// through entry data. Method: exact expected strings.
import { describe, expect, test } from '@jest/globals';
import { decodeConfChange, describeMessage, describeReady, encodeConfChange, newMessage } from '@corvid/raft';

describe('describe', () => {
  test('messages', () => {
    const m = newMessage({ type: 'MsgApp', from: 1n, to: 2n, term: 3, logTerm: 2, index: 5, commit: 4,
      entries: [{ term: 3, index: 6, type: 'Normal', data: Uint8Array.from('hi', (c) => c.charCodeAt(0)) },
        { term: 3, index: 7, type: 'ConfChange', data: encodeConfChange({ type: 'AddLearnerNode', nodeId: 9n, context: new Uint8Array(0) }) }] });
    expect(describeMessage(m)).toBe('1->2 MsgApp Term:3 Log:2/5 Commit:4 Entries:[3/6 EntryNormal "hi", 3/7 AddLearnerNode 9]');
    expect(describeMessage(newMessage({ type: 'MsgAppResp', from: 2n, to: 1n, term: 3, index: 5, reject: true, rejectHint: 4, logTerm: 2 })))
      .toBe('2->1 MsgAppResp Term:3 Log:2/5 Rejected (Hint: 4)');
  });

  test('an empty ready', () => {
    expect(describeReady({ softState: null, hardState: null, readStates: [], entries: [], snapshot: null, committedEntries: [], messages: [], mustSync: false }))
      .toBe('<empty Ready>');
  });

  test('conf changes round-trip, including 64-bit ids', () => {
    const cc = { type: 'RemoveNode' as const, nodeId: 0xfedcba9876543210n, context: new Uint8Array([1, 2]) };
    expect(decodeConfChange(encodeConfChange(cc))).toEqual(cc);
  });
});
