/**
 * Membership entries: a ConfChange (MemberAdd, MemberPromote, MemberRemove; its context carries
 * the member) and the normal entries that change a member's attributes (publish) or peer URLs
 * (MemberUpdate). Validated at apply time, as etcd validates conf changes, so every member reaches
 * the same verdict; a refused ConfChange must not reach Raft's configuration either.
 */
import { decodeConfChange } from '@corvid/raft';
import { corvidpb, type etcdserverpb } from '@corvid/proto';
import type { MemberChange, MembershipStore } from '../cluster/index.js';
import { CorvidError } from '../errors/index.js';
import type { WriteTxn } from '../storage/index.js';

/** What a membership entry answers: the members after the change. */
export interface MemberChangeResponse {
  readonly header: etcdserverpb.ResponseHeader;
  readonly members: etcdserverpb.Member[];
}

/** The membership change a ConfChange entry asks for. */
export function memberChangeOf(data: Uint8Array): MemberChange {
  const cc = decodeConfChange(data);
  const context = cc.context.length > 0 ? corvidpb.ConfChangeContext.decode(cc.context) : undefined;
  switch (cc.type) {
    case 'RemoveNode':
      return { kind: 'remove', id: cc.nodeId };
    case 'AddNode':
    case 'AddLearnerNode': {
      if (context?.promote === true) return { kind: 'promote', id: cc.nodeId };
      if (context?.member === undefined) throw new CorvidError('Corrupt', { detail: 'a ConfChange adding a member carries no member' });
      return { kind: 'add', member: { ...context.member, ID: cc.nodeId, isLearner: cc.type === 'AddLearnerNode' } };
    }
  }
}

/** Validates and applies one ConfChange entry; a refusal changes nothing. */
export function applyConfChangeEntry(txn: WriteTxn, members: MembershipStore, data: Uint8Array): CorvidError | undefined {
  const change = memberChangeOf(data);
  const refusal = members.validate(change);
  if (refusal === undefined) members.apply(txn, change);
  return refusal;
}

export function applyMemberAttributes(txn: WriteTxn, members: MembershipStore, attrs: corvidpb.MemberAttributes): void {
  members.setAttributes(txn, attrs.id, attrs.name, attrs.clientUrls);
}

export function applyMemberPeerUrls(txn: WriteTxn, members: MembershipStore, update: corvidpb.MemberPeerUrls): CorvidError | undefined {
  const change: MemberChange = { kind: 'peer-urls', id: update.id, peerUrls: update.peerUrls };
  const refusal = members.validate(change);
  if (refusal === undefined) members.apply(txn, change);
  return refusal;
}
