/**
 * etcd's sendFragments (etcdserver/api/v3rpc/watch.go): a response of a watcher created with
 * `fragment` whose encoded size reaches the limit (etcd: --max-request-bytes + 512 KiB) is split
 * into responses that each stay under it (a single event may exceed it alone); every part but the
 * last has fragment=true.
 * Sizes are protobuf sizes, as gogoproto's Size() computes them: the response without events,
 * plus each event's field (tag, length, bytes).
 */
import { etcdserverpb, mvccpb } from '@corvid/proto';

const varintBytes = (n: number): number => {
  let bytes = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    bytes += 1;
  }
  return bytes;
};

/** Encoded size of `events` as field 11 of a WatchResponse. */
const eventFieldBytes = (event: mvccpb.Event): number => {
  const size = mvccpb.Event.encode(event).finish().length;
  return 1 + varintBytes(size) + size;
};

export function watchFragments(response: etcdserverpb.WatchResponse, maxRequestBytes: number): etcdserverpb.WatchResponse[] {
  const { events } = response;
  if (events.length < 2) return [response];
  const eventBytes = events.map(eventFieldBytes);
  const base = { ...response, events: [], fragment: true };
  const baseBytes = etcdserverpb.WatchResponse.encode(base).finish().length;
  const wholeBytes = baseBytes - 2 + eventBytes.reduce((a, b) => a + b, 0); // fragment=true costs 2 bytes
  if (wholeBytes < maxRequestBytes) return [response];
  const parts: etcdserverpb.WatchResponse[] = [];
  let idx = 0;
  while (idx < events.length) {
    let size = baseBytes;
    const start = idx;
    for (; idx < events.length; idx++) {
      size += eventBytes[idx] as number;
      if (idx > start && size >= maxRequestBytes) break;
    }
    parts.push({ ...base, events: events.slice(start, idx), fragment: idx < events.length });
  }
  return parts;
}
