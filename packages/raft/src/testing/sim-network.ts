/**
 * The simulated network: every message gets a delay in steps; it may be lost, duplicated or (if the seed says
 * so) reordered, and
 * links can be cut one way or both. Each path holds a bounded number of messages in flight (extra ones drop).
 */
import type { Message, NodeId } from '../messages.js';
import type { Prng } from './prng.js';

export interface NetworkFaults {
  /** Probability that a message is lost. */
  lossRate: number;
  /** Probability that a message is delivered twice. */
  duplicateRate: number;
  /** Delivery delay is uniform in [1, maxDelaySteps]. */
  maxDelaySteps: number;
  /** Maximum messages in flight on one directed path. */
  pathCapacityMsgs: number;
  /** Whether messages on one path may overtake each other (false: FIFO per path, like a TCP stream). */
  reorder: boolean;
}

interface InFlight {
  readonly atStep: number;
  readonly message: Message;
  readonly path: string;
}

export class SimNetwork {
  private inFlight: InFlight[] = [];
  private readonly perPath = new Map<string, number>();
  private readonly blocked = new Set<string>();
  private readonly lastAtStep = new Map<string, number>();
  stats = { sent: 0, lost: 0, duplicated: 0, delivered: 0, blocked: 0, overflow: 0 };

  constructor(private readonly prng: Prng, public faults: NetworkFaults) {}

  /** Queues a message; returns false when the transport knows it was dropped (cut link or full path). */
  send(m: Message, nowStep: number): boolean {
    this.stats.sent++;
    const path = `${m.from}->${m.to}`;
    if (this.blocked.has(path)) {
      this.stats.blocked++;
      return false;
    }
    if (this.prng.chance(this.faults.lossRate)) {
      this.stats.lost++;
      return true; // silently lost in the network: the sender cannot tell
    }
    const copies = this.prng.chance(this.faults.duplicateRate) ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let i = 0; i < copies; i++) {
      const n = this.perPath.get(path) ?? 0;
      if (n >= this.faults.pathCapacityMsgs) {
        this.stats.overflow++;
        return i > 0;
      }
      this.perPath.set(path, n + 1);
      let atStep = nowStep + 1 + this.prng.below(this.faults.maxDelaySteps);
      if (!this.faults.reorder) {
        atStep = Math.max(atStep, this.lastAtStep.get(path) ?? 0);
        this.lastAtStep.set(path, atStep);
      }
      this.inFlight.push({ atStep, message: m, path });
    }
    return true;
  }

  /** Messages due at this step, in a random order (reordering across and within paths). */
  due(nowStep: number): Message[] {
    const out: Message[] = [];
    const keep: InFlight[] = [];
    for (const f of this.inFlight) {
      if (f.atStep <= nowStep) {
        out.push(f.message);
        this.perPath.set(f.path, (this.perPath.get(f.path) ?? 1) - 1);
      } else keep.push(f);
    }
    this.inFlight = keep;
    this.stats.delivered += out.length;
    return this.faults.reorder ? this.prng.shuffle(out) : out;
  }

  cut(from: NodeId, to: NodeId): void {
    this.blocked.add(`${from}->${to}`);
  }

  /** Splits the nodes into groups that cannot talk across. */
  partition(groups: readonly (readonly NodeId[])[]): void {
    this.blocked.clear();
    for (const g of groups) for (const h of groups) {
      if (g === h) continue;
      for (const a of g) for (const b of h) this.blocked.add(`${a}->${b}`);
    }
  }

  heal(): void {
    this.blocked.clear();
  }

  blockedPaths(): string[] {
    return [...this.blocked].sort();
  }

  inFlightCount(): number {
    return this.inFlight.length;
  }
}
