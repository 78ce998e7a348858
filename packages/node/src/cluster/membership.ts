/**
 * The cluster's members as the applied log says (etcd's membership.RaftCluster): changed only by
 * applied entries, persisted in the backend's meta DB in the same transaction, so a snapshot
 * carries the membership with the data. Validation is etcd 3.4's ValidateConfigurationChange,
 * run at apply time so every member reaches the same verdict.
 *
 * Layout (meta DB): `member/<id:8>` → etcdserverpb.Member; `removed/<id:8>` → empty.
 */
import { etcdserverpb } from '@corvid/proto';
import { CorvidError } from '../errors/index.js';
import type { Backend, WriteTxn } from '../storage/index.js';
import { prefixEnd } from '../storage/schema.js';

export type Member = etcdserverpb.Member;

const MEMBER_PREFIX = Buffer.from('member/', 'latin1');
const REMOVED_PREFIX = Buffer.from('removed/', 'latin1');
/** etcd 3.4's maxLearners. */
export const MAX_LEARNERS = 1;

export type MemberChange =
  | { readonly kind: 'add'; readonly member: Member }
  | { readonly kind: 'promote'; readonly id: bigint }
  | { readonly kind: 'remove'; readonly id: bigint }
  | { readonly kind: 'peer-urls'; readonly id: bigint; readonly peerUrls: readonly string[] };

function idKey(prefix: Buffer, id: bigint): Buffer {
  const key = Buffer.allocUnsafe(prefix.length + 8);
  prefix.copy(key, 0);
  key.writeBigUInt64BE(id, prefix.length);
  return key;
}

export class MembershipStore {
  private readonly members = new Map<bigint, Member>();
  private readonly removed = new Set<bigint>();
  private readonly listeners: Array<() => void> = [];

  constructor(private readonly backend: Backend) {
    this.reload();
  }

  /** Reads the membership from disk (at start, after an aborted batch, after a snapshot install). */
  reload(): void {
    this.members.clear();
    this.removed.clear();
    const { meta } = this.backend;
    for (const { key, value } of meta.getRange({ start: MEMBER_PREFIX, end: prefixEnd(MEMBER_PREFIX) })) {
      this.members.set(key.readBigUInt64BE(MEMBER_PREFIX.length), etcdserverpb.Member.decode(value));
    }
    for (const { key } of meta.getRange({ start: REMOVED_PREFIX, end: prefixEnd(REMOVED_PREFIX) })) {
      this.removed.add(key.readBigUInt64BE(REMOVED_PREFIX.length));
    }
    this.changed();
  }

  /** Called after every change (and reload): the transport follows the peer URLs. */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  isEmpty(): boolean {
    return this.members.size === 0 && this.removed.size === 0;
  }

  /** Members ordered by id, as etcd lists them. */
  list(): Member[] {
    return [...this.members.values()].sort((a, b) => (a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0));
  }

  /** Raft's configuration as this membership implies it: voters and learners by id. */
  confState(): { voters: bigint[]; learners: bigint[] } {
    const all = this.list();
    return { voters: all.filter((m) => !m.isLearner).map((m) => m.ID), learners: all.filter((m) => m.isLearner).map((m) => m.ID) };
  }

  get(id: bigint): Member | undefined {
    return this.members.get(id);
  }

  isRemoved(id: bigint): boolean {
    return this.removed.has(id);
  }

  /** A new cluster's founding members (every founder writes the same records). */
  seed(txn: WriteTxn, founders: readonly Member[]): void {
    for (const m of founders) this.put(txn, m);
    this.changed();
  }

  /** A restored snapshot's new cluster: every member and removed id forgotten, the founders written. */
  replaceAll(txn: WriteTxn, founders: readonly Member[]): void {
    for (const prefix of [MEMBER_PREFIX, REMOVED_PREFIX]) {
      for (const key of [...this.backend.meta.getKeys({ start: prefix, end: prefixEnd(prefix) })]) this.backend.meta.removeSync(key);
    }
    this.members.clear();
    this.removed.clear();
    this.seed(txn, founders);
  }

  /** etcd's ValidateConfigurationChange: the refusal, or undefined if `change` may apply. */
  validate(change: MemberChange): CorvidError | undefined {
    const id = change.kind === 'add' ? change.member.ID : change.id;
    if (this.removed.has(id)) return new CorvidError('MemberNotFound'); // etcd maps ErrIDRemoved to it too
    switch (change.kind) {
      case 'add': {
        if (this.members.has(id)) return new CorvidError('MemberExist');
        if (this.peerUrlTaken(change.member.peerURLs, id)) return new CorvidError('PeerURLExist');
        const learners = [...this.members.values()].filter((m) => m.isLearner).length;
        if (change.member.isLearner && learners + 1 > MAX_LEARNERS) return new CorvidError('TooManyLearners');
        return undefined;
      }
      case 'promote': {
        const m = this.members.get(id);
        if (m === undefined) return new CorvidError('MemberNotFound');
        return m.isLearner ? undefined : new CorvidError('MemberNotLearner');
      }
      case 'remove':
        return this.members.has(id) ? undefined : new CorvidError('MemberNotFound');
      case 'peer-urls':
        if (!this.members.has(id)) return new CorvidError('MemberNotFound');
        return this.peerUrlTaken(change.peerUrls, id) ? new CorvidError('PeerURLExist') : undefined;
    }
  }

  /** Applies a validated change. */
  apply(txn: WriteTxn, change: MemberChange): void {
    switch (change.kind) {
      case 'add':
        this.put(txn, change.member);
        break;
      case 'promote':
        this.put(txn, { ...this.members.get(change.id)!, isLearner: false });
        break;
      case 'remove':
        this.backend.meta.removeSync(idKey(MEMBER_PREFIX, change.id));
        this.backend.meta.put(idKey(REMOVED_PREFIX, change.id), Buffer.alloc(0));
        this.members.delete(change.id);
        this.removed.add(change.id);
        break;
      case 'peer-urls':
        this.put(txn, { ...this.members.get(change.id)!, peerURLs: [...change.peerUrls] });
        break;
    }
    this.changed();
  }

  /** A started member's name and client URLs (etcd's publish); ignored for an unknown member. */
  setAttributes(txn: WriteTxn, id: bigint, name: string, clientUrls: readonly string[]): void {
    const m = this.members.get(id);
    if (m === undefined) return;
    this.put(txn, { ...m, name, clientURLs: [...clientUrls] });
    this.changed();
  }

  private put(_txn: WriteTxn, m: Member): void {
    this.backend.meta.put(idKey(MEMBER_PREFIX, m.ID), Buffer.from(etcdserverpb.Member.encode(m).finish()));
    this.members.set(m.ID, m);
  }

  private peerUrlTaken(urls: readonly string[], except: bigint): boolean {
    for (const m of this.members.values()) {
      if (m.ID !== except && m.peerURLs.some((u) => urls.includes(u))) return true;
    }
    return false;
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
