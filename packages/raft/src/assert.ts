/** Thrown only when an invariant of the Raft core is broken. Never catch one: the member logs it and exits. */
export class AssertionError extends Error {
  override name = 'AssertionError';
}

/** Asserts an invariant; the message may be lazy so the hot path builds no strings. */
export function assert(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new AssertionError(typeof message === 'string' ? message : message());
}
