/**
 * Goal: a simple token issued through an Authenticate entry this member has not applied yet is waited for (etcd's
 * isValidSimpleToken), once, through a ReadIndex barrier; known tokens, other tokens and members that applied that
 * far do not wait; without a token the certificate's CN is the caller.
 * Method: an AuthGate over a stand-in store and log.
 */
import { describe, expect, it } from '@jest/globals';
import { AuthGate, SimpleTokens, type AuthStore } from '../../src/auth/index.js';

const store = { revision: () => 3 } as unknown as AuthStore;

describe('AuthGate', () => {
  it('waits for the entry of a simple token not applied yet', async () => {
    const tokens = new SimpleTokens({ ttlMs: 60_000, nowMs: () => 0 });
    let applied = 10;
    let barriers = 0;
    const gate = new AuthGate(store, tokens, { appliedIndex: () => applied, readBarrier: async () => { barriers++; applied = 12; } });
    const prepared = tokens.prepare();
    const future = `${prepared.simpleToken}.12`;
    const pending = gate.tokenPending(future);
    expect(pending).toBeDefined();
    await pending;
    expect(barriers).toBe(1);
    tokens.assign('alice', prepared, 12);
    expect(gate.tokenPending(future)).toBeUndefined();
    expect(gate.identify(future)).toEqual({ username: 'alice', revision: 3 });
    expect(gate.tokenPending(`${tokens.prepare().simpleToken}.9`)).toBeUndefined();
    expect(gate.tokenPending('not-a-token')).toBeUndefined();
    expect(gate.tokenPending(undefined)).toBeUndefined();
  });

  it('names the certificate CN as the caller when there is no token', () => {
    const gate = new AuthGate(store, new SimpleTokens({ ttlMs: 1, nowMs: () => 0 }));
    expect(gate.identify(undefined, 'alice')).toEqual({ username: 'alice', revision: 3 });
    expect(gate.identify(undefined)).toBeUndefined();
    expect(() => gate.identify('unknown.1', 'alice')).toThrow('InvalidAuthToken');
  });
});
