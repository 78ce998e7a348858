/** Bootstrapping a cluster's storage: every founding member starts from the same snapshot at index 1, term 1. */
import type { ConfState } from '../messages.js';
import { MemoryStorage } from '../storage.js';

export const BOOTSTRAP_INDEX = 1;

/** Storage for a founding member: the initial membership lives in a snapshot, so joiners receive it too. */
export function bootstrapStorage(confState: ConfState, data: Uint8Array, storage = new MemoryStorage()): MemoryStorage {
  storage.applySnapshot({ data, metadata: { index: BOOTSTRAP_INDEX, term: 1, confState } });
  storage.setHardState({ term: 1, vote: 0n, commit: BOOTSTRAP_INDEX });
  return storage;
}
