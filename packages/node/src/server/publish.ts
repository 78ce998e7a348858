/**
 * etcd's publish: once it serves, a member proposes its name and client URLs, so every member's
 * MemberList shows them and "started" members can be counted for reconfiguration checks. Retried
 * until it applies (there may be no leader yet); skipped when the membership already says so.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { MembershipStore } from '../cluster/index.js';
import type { Logger } from '../util/logger.js';
import type { Proposer } from './proposer.js';

/** etcd retries publishing every 500 ms (its request timeout aside). */
const RETRY_MS = 500;

export interface PublishDeps {
  readonly memberId: bigint;
  readonly name: string;
  readonly clientUrls: readonly string[];
  readonly members: MembershipStore;
  readonly proposer: Proposer;
  readonly logger: Logger;
}

function published(deps: PublishDeps): boolean {
  const self = deps.members.get(deps.memberId);
  return self !== undefined && self.name === deps.name && self.clientURLs.join(',') === deps.clientUrls.join(',');
}

export function publishAttributes(deps: PublishDeps): { stop(): Promise<void> } {
  const abort = new AbortController();
  const run = async (): Promise<void> => {
    while (!abort.signal.aborted && !published(deps)) {
      // A joiner learns its own record from the leader's snapshot: publish once it is there.
      if (deps.members.get(deps.memberId) !== undefined) {
        try {
          await deps.proposer.propose({ $case: 'memberAttributes', value: { id: deps.memberId, name: deps.name, clientUrls: [...deps.clientUrls] } });
          deps.logger.info('published local member to cluster', { name: deps.name, 'client-urls': deps.clientUrls });
          return;
        } catch (err) {
          deps.logger.debug('publish failed; retrying', { error: err });
        }
      }
      await sleep(RETRY_MS, undefined, { signal: abort.signal }).catch(() => undefined);
    }
  };
  const done = run();
  return {
    stop: async () => {
      abort.abort();
      await done;
    },
  };
}
