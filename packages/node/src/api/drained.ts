/**
 * Waiting out back-pressure on a server stream: after `write()` returned false, resolves on
 * 'drain', or when the call is cancelled or closed (a client that went away never drains).
 */
import type { EventEmitter } from 'node:events';

export function drained(call: EventEmitter): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      call.off('drain', done);
      call.off('cancelled', done);
      call.off('close', done);
      resolve();
    };
    call.on('drain', done);
    call.on('cancelled', done);
    call.on('close', done);
  });
}
