// Goal: the pure majority math agrees with a naive definition. Method: fast-check properties over random voter
// sets, acknowledged indexes and votes, compared with brute-force versions; a failure prints its seed and path.
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { committedIndex, majoritySize, voteResult } from '@corvid/raft';

const voterSets = fc.uniqueArray(fc.bigInt({ min: 1n, max: 20n }), { minLength: 0, maxLength: 9 });

describe('majority quorum', () => {
  test('committedIndex is the largest index acknowledged by a majority', () => {
    fc.assert(fc.property(voterSets, fc.array(fc.nat(50), { minLength: 9, maxLength: 9 }), (voters, acks) => {
      const acked = new Map(voters.map((v, i) => [v, acks[i]!]));
      const got = committedIndex(voters, (id) => acked.get(id));
      if (voters.length === 0) return got === Number.MAX_SAFE_INTEGER;
      // naive: the largest x such that a majority has ack >= x
      let best = 0;
      for (let x = 0; x <= 50; x++) if (voters.filter((v) => acked.get(v)! >= x).length >= majoritySize(voters.length)) best = x;
      return got === best;
    }));
  });

  test('voteResult: won iff a majority granted, lost iff a majority can no longer grant', () => {
    fc.assert(fc.property(voterSets, fc.array(fc.constantFrom<boolean | undefined>(true, false, undefined), { minLength: 9, maxLength: 9 }), (voters, vs) => {
      const votes = new Map<bigint, boolean>();
      voters.forEach((v, i) => { const x = vs[i]; if (x !== undefined) votes.set(v, x); });
      const yes = voters.filter((v) => votes.get(v) === true).length;
      const no = voters.filter((v) => votes.get(v) === false).length;
      const q = majoritySize(voters.length);
      const want = voters.length === 0 || yes >= q ? 'won' : voters.length - no < q ? 'lost' : 'pending';
      return voteResult(voters, votes) === want;
    }));
  });

  test('examples', () => {
    expect(majoritySize(1)).toBe(1);
    expect(majoritySize(4)).toBe(3);
    expect(committedIndex([1n, 2n, 3n], (id) => ({ 1: 5, 2: 3, 3: 1 })[Number(id)])).toBe(3);
  });
});
