/**
 * Goal: --experimental-watch-progress-notify-interval sets how often an idle `progress_notify` watcher is sent a
 * progress notification (an empty response with its watch id and the current revision), as etcd 3.4 does; without
 * the flag (10 minutes) none arrives in the window.
 * Method: against one kind (CORVID_TEST_SUBJECT=etcd runs the same on etcd 3.4): a 1-member cluster started with a
 * 500 ms interval; one stream with a progress_notify watcher and a plain one on idle keys; count notifications over
 * a window of WINDOW_MS. etcd adds a jitter of up to a tenth of the interval per stream, so WINDOW_MS / 550 ms to
 * WINDOW_MS / 500 ms ticks are due; the bounds below leave a tick either way for a loaded machine. A second member
 * without the flag gives none in the same window (the default is 10 minutes), so the count comes from the flag.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { withCluster } from '../harness/cluster.js';
import { bytes, kvClient } from '../harness/grpc.js';
import { ProcessGroup, SUBJECT } from '../harness/processes.js';
import { WatchStreamClient } from '../differential/watch-client.js';

const INTERVAL = '500ms';
const WINDOW_MS = 5_000;
const group = new ProcessGroup();
afterAll(async () => group.cleanup());

interface Counts { readonly notify: number; readonly plain: number; readonly revisions: readonly bigint[] }

/** Opens a progress_notify watcher and a plain one, lets WINDOW_MS pass idle, and counts their empty responses. */
async function countNotifications(endpoint: string): Promise<Counts> {
  const kv = kvClient(endpoint);
  await kv.put({ key: bytes('progress/other'), value: bytes('v') }); // a revision above 1 for the notifications
  kv.close();
  const stream = new WatchStreamClient(endpoint);
  try {
    stream.create({ key: bytes('progress/idle'), progressNotify: true, watchId: 1n });
    stream.create({ key: bytes('progress/quiet'), watchId: 2n });
    await stream.waitFor(2);
    const created = stream.responses.length;
    await delay(WINDOW_MS); // the measurement itself: notifications are counted over a fixed window
    const later = stream.responses.slice(created);
    expect(stream.status).toBeUndefined();
    expect(later.every((r) => r.events.length === 0 && !r.created && !r.canceled)).toBe(true);
    const notify = later.filter((r) => r.watchId === 1n);
    return { notify: notify.length, plain: later.filter((r) => r.watchId === 2n).length, revisions: notify.map((r) => r.header?.revision ?? 0n) };
  } finally {
    stream.close();
  }
}

test(`${SUBJECT}: --experimental-watch-progress-notify-interval=${INTERVAL} notifies an idle progress_notify watcher at that rate`, async () => {
  await withCluster(group, { kind: SUBJECT, size: 1, extraArgs: [`--experimental-watch-progress-notify-interval=${INTERVAL}`] }, async (cluster) => {
    const counts = await countNotifications(cluster.slots[0]!.endpoint);
    expect(counts.plain).toBe(0);
    expect(counts.notify).toBeGreaterThanOrEqual(Math.floor(WINDOW_MS / 550) - 1);
    expect(counts.notify).toBeLessThanOrEqual(Math.ceil(WINDOW_MS / 500) + 1);
    // Each carries the store's current revision (nothing was written meanwhile, so all the same and non-zero).
    expect(new Set(counts.revisions).size).toBe(1);
    expect(counts.revisions[0]).toBeGreaterThan(1n);
  });
}, 60_000);

test(`${SUBJECT}: without the flag (10 minutes) an idle progress_notify watcher hears nothing in the window`, async () => {
  await withCluster(group, { kind: SUBJECT, size: 1 }, async (cluster) => {
    const counts = await countNotifications(cluster.slots[0]!.endpoint);
    expect(counts).toEqual({ notify: 0, plain: 0, revisions: [] });
  });
}, 60_000);
