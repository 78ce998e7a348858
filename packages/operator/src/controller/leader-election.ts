/**
 * Leader election for the operator itself on a coordination.k8s.io/v1 Lease, as client-go's leaderelection
 * does it: the holder renews spec.renewTime every `renewMs`; another replica takes the Lease only once
 * renewTime + leaseDurationSeconds has passed, with an update carrying the read resourceVersion, so two
 * candidates racing for an expired Lease cannot both win (the loser gets 409 Conflict).
 */
import { CoordinationV1Api, type KubeConfig, type V1Lease } from '@kubernetes/client-node';

type MicroTime = NonNullable<NonNullable<V1Lease['spec']>['renewTime']>;

/** A Lease time: RFC 3339 with microseconds, as client-node's V1MicroTime (not exported by the package) writes it. */
class LeaseTime extends Date {
  override toISOString(): string {
    return `${super.toISOString().slice(0, -1)}000Z`;
  }
}
const microTime = (ms: number): MicroTime => new LeaseTime(ms) as unknown as MicroTime;
import { httpCode, isConflict, isNotFound } from './kube.js';

export interface LeaderElectionOptions {
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseDurationSeconds?: number;
  readonly renewMs?: number;
}

export class LeaderElector {
  private readonly api: CoordinationV1Api;
  private readonly durationSeconds: number;
  private readonly renewMs: number;
  private timer: NodeJS.Timeout | undefined;
  private leading = false;

  constructor(config: KubeConfig, private readonly options: LeaderElectionOptions) {
    this.api = config.makeApiClient(CoordinationV1Api);
    this.durationSeconds = options.leaseDurationSeconds ?? 15;
    this.renewMs = options.renewMs ?? 5_000;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** One attempt: true if this replica holds the Lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.options;
    const now = microTime(Date.now());
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ namespace, name });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        await this.api.createNamespacedLease({ namespace, body: { metadata: { name, namespace }, spec: { holderIdentity: identity, leaseDurationSeconds: this.durationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 } } });
        return true;
      } catch (createErr) {
        if (httpCode(createErr) === 409) return false;
        throw createErr;
      }
    }
    const spec = lease.spec ?? {};
    const held = spec.holderIdentity !== undefined && spec.holderIdentity !== '';
    const renewedMs = spec.renewTime === undefined ? 0 : new Date(spec.renewTime).getTime();
    const expired = renewedMs + (spec.leaseDurationSeconds ?? this.durationSeconds) * 1000 < Date.now();
    if (held && spec.holderIdentity !== identity && !expired) return false;
    const takeover = spec.holderIdentity !== identity;
    try {
      await this.api.replaceNamespacedLease({
        namespace,
        name,
        body: { ...lease, spec: { ...spec, holderIdentity: identity, leaseDurationSeconds: this.durationSeconds, renewTime: now, ...(takeover ? { acquireTime: now, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 } : {}) } },
      });
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  /** Campaigns until elected, then keeps renewing; `onLost` runs if a renewal fails past the lease duration. */
  async run(onElected: () => void, onLost: () => void): Promise<void> {
    let lastRenewMs = 0;
    const tick = async (): Promise<void> => {
      let ok = false;
      try {
        ok = await this.tryAcquireOrRenew();
      } catch {
        ok = false;
      }
      if (ok) {
        lastRenewMs = Date.now();
        if (!this.leading) {
          this.leading = true;
          onElected();
        }
      } else if (this.leading && Date.now() - lastRenewMs > this.durationSeconds * 1000) {
        this.leading = false;
        onLost();
      }
      this.timer = setTimeout(() => void tick(), this.renewMs);
    };
    await tick();
  }

  /** Stops renewing and, if leading, hands the Lease back by expiring it. */
  async release(): Promise<void> {
    clearTimeout(this.timer);
    if (!this.leading) return;
    this.leading = false;
    const { namespace, name } = this.options;
    const lease = await this.api.readNamespacedLease({ namespace, name });
    if (lease.spec?.holderIdentity !== this.options.identity) return;
    await this.api.replaceNamespacedLease({ namespace, name, body: { ...lease, spec: { ...lease.spec, holderIdentity: '', renewTime: microTime(0) } } });
  }
}
