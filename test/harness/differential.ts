/**
 * The shape every differential suite shares: run one script against a fresh etcd (the oracle), then against a fresh
 * subject (Corvid, or etcd again with CORVID_TEST_SUBJECT=etcd), one member at a time so a suite never holds two;
 * keep each side's result or its failure, and let the tests compare. A failed side never throws from beforeAll —
 * the tests that need its answers fail, each with the start error or output tail.
 */
import { ProcessGroup, SUBJECT, type Member, type MemberOptions } from './processes.js';

export type Side = 'oracle' | 'subject';

export class SideBySide<T> {
  private readonly results = new Map<Side, T>();
  private readonly failures = new Map<Side, Error>();

  constructor(
    private readonly group: ProcessGroup,
    private readonly options: MemberOptions = {},
  ) {}

  /**
   * Runs `script` on the oracle, then on the subject. The script gets a started member and returns its result; the
   * member is stopped afterwards unless it already exited (a script that restarts members stops its own).
   */
  async run(script: (member: Member, side: Side) => Promise<T>): Promise<void> {
    for (const side of ['oracle', 'subject'] as const) {
      try {
        const member = await this.group.start(side === 'oracle' ? 'etcd' : SUBJECT, this.options);
        try {
          this.results.set(side, await script(member, side));
        } finally {
          if (!member.hasExited()) await member.stop();
        }
      } catch (err) {
        this.failures.set(side, err as Error);
      }
    }
  }

  /** The side's result; throws with the reason when that side did not finish. */
  get(side: Side): T {
    const result = this.results.get(side);
    if (result === undefined) throw new Error(`${side === 'oracle' ? 'etcd' : SUBJECT} did not run the script: ${this.failures.get(side)?.message ?? 'no result'}`);
    return result;
  }

  failure(side: Side): Error | undefined {
    return this.failures.get(side);
  }
}
