/**
 * How a proposal the Raft core refused becomes one of etcd's errors. etcd 3.4 blocks a proposal
 * while there is no leader and answers `etcdserver: request timed out` when its request timeout
 * expires; a member that knows there is no leader says so at once ('NoLeader', as etcd's
 * require-leader interceptor does). The uncommitted-size limit is etcd's ErrTooManyRequests
 * (the proposal queue is full); anything else cannot commit now and times out, as in etcd.
 */
import type { DropReason } from '@corvid/raft';
import { CorvidError } from '../errors/index.js';

export function dropError(reason: DropReason): CorvidError {
  switch (reason) {
    case 'no-leader':
      return new CorvidError('NoLeader');
    case 'uncommitted-limit':
      return new CorvidError('TooManyRequests');
    default:
      return new CorvidError('Timeout', { detail: `proposal dropped: ${reason}` });
  }
}
