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
/** How long one publish attempt may take before the next is tried. */
const ATTEMPT_MS = 2000;

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
      // Proposed even before this member's own membership lists it (a joiner waiting for its
      // snapshot): the members that apply it know the new member from its MemberAdd.
      try {
        const proposal = deps.proposer.propose({ $case: 'memberAttributes', value: { id: deps.memberId, name: deps.name, clientUrls: [...deps.clientUrls] } });
        // An attempt gets ATTEMPT_MS, not the whole request timeout: a forwarded proposal can be
        // lost (a joiner right after its snapshot, seen in test/cluster/membership under load) and
        // a second publish of the same attributes is harmless. A late outcome is only logged.
        proposal.catch((err: unknown) => deps.logger.debug('an earlier publish attempt failed', { error: err }));
        if (await Promise.race([proposal.then(() => true), sleep(ATTEMPT_MS, false, { signal: abort.signal }).catch(() => false)])) {
          deps.logger.info('published local member to cluster', { name: deps.name, 'client-urls': deps.clientUrls });
          return;
        }
      } catch (err) {
        deps.logger.debug('publish failed; retrying', { error: err });
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
