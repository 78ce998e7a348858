/** Bootstrapping a test cluster's storage: every founding member starts from the same snapshot at index 1, term 1. */
import type { ConfState } from '../messages.js';
import { BOOTSTRAP_INDEX, MemoryStorage, bootstrapState } from '../storage.js';

export { BOOTSTRAP_INDEX };

/** Storage for a founding member: the initial membership lives in a snapshot, so joiners receive it too. */
export function bootstrapStorage(confState: ConfState, data: Uint8Array, storage = new MemoryStorage()): MemoryStorage {
  const { snapshot, hardState } = bootstrapState(confState, data);
  storage.applySnapshot(snapshot);
  storage.setHardState(hardState);
  return storage;
}
