/**
 * Goal: the correctness side of DESIGN §4 ("reads that never block writes"): while long ranges run — two loops of
 * ranges over 100,000 keys of 1 KiB (≈ 100 MB each) — a single put still completes within the election timeout,
 * and every range answers in full at one revision. Not a benchmark: it asserts only that bound (etcd's
 * 1,000 ms default election timeout, past which a member's peers would call an election) and correct answers;
 * docs/benchmarks.md measures throughput.
 * Method: against etcd 3.4 (proving the test) and then Corvid. Preload the prefix with txns of 128 puts, start
 * the range loops over raw HTTP/2 (the answers are counted, not decoded, so the test process stays light), then
 * put one key at a time until at least RANGES_WANTED ranges have finished; then check one range's answer decoded.
 */
import http2 from 'node:http2';
import { etcdserverpb } from '@corvid/proto';
import { bytes, kvClient, type KvApi } from '../harness/grpc.js';
import { MEMBER_KINDS, ProcessGroup, type Member, type MemberKind } from '../harness/processes.js';

const KEYS = 100_000;
const VALUE = Buffer.alloc(1024, 0x6c);
const PREFIX = 'long-reads/';
const PREFIX_END = 'long-reads0';
const ELECTION_TIMEOUT_MS = 1000;
const RANGES_WANTED = 4;
const WINDOW_BYTES = 32 * 1024 * 1024;

const group = new ProcessGroup();
afterAll(async () => group.cleanup());

const key = (i: number): Buffer => bytes(`${PREFIX}${String(i).padStart(6, '0')}`);

function frame(message: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/** One Range over raw HTTP/2: the grpc-status and the body's byte count (and the body itself if `keep`). */
function rawRange(session: http2.ClientHttp2Session, body: Buffer, keep?: Buffer[]): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'POST', ':path': '/etcdserverpb.KV/Range', 'content-type': 'application/grpc', te: 'trailers' });
    let status = -1;
    let received = 0;
    const take = (h: http2.IncomingHttpHeaders): void => {
      if (typeof h['grpc-status'] === 'string') status = Number(h['grpc-status']);
    };
    stream.on('response', take);
    stream.on('trailers', take);
    stream.on('data', (chunk: Buffer) => {
      received += chunk.length;
      keep?.push(chunk);
    });
    stream.on('error', reject);
    stream.on('close', () => resolve({ status, bytes: received }));
    stream.end(body);
  });
}

describe.each(MEMBER_KINDS.map((kind) => [kind]))('long reads on %s', (kind: MemberKind) => {
  let member: Member | undefined;
  let kv: KvApi;

  beforeAll(async () => {
    member = await group.start(kind);
    kv = kvClient(member.endpoint, { 'grpc.max_receive_message_length': 2 ** 31 - 1 });
    for (let from = 0; from < KEYS; from += 128) {
      const success = [];
      for (let i = from; i < Math.min(KEYS, from + 128); i++) success.push({ request: { $case: 'requestPut' as const, value: { key: key(i), value: VALUE } } });
      await kv.txn({ success });
    }
  }, 120_000);

  afterAll(async () => {
    kv?.close();
    await member?.stop();
  });

  test('a put completes within the election timeout while full-prefix ranges run', async () => {
    const body = frame(etcdserverpb.RangeRequest.encode(etcdserverpb.RangeRequest.fromPartial({ key: bytes(PREFIX), rangeEnd: bytes(PREFIX_END) })).finish());
    const sessions = [0, 1].map(() => http2.connect(`http://${member!.endpoint}`, { settings: { initialWindowSize: WINDOW_BYTES } }));
    for (const s of sessions) s.on('connect', () => s.setLocalWindowSize(WINDOW_BYTES));
    let running = true;
    const answers: Array<{ status: number; bytes: number }> = [];
    const loops = sessions.map(async (s) => {
      while (running) answers.push(await rawRange(s, body));
    });
    const putMs: number[] = [];
    try {
      for (let i = 0; answers.length < RANGES_WANTED && i < 100_000; i++) {
        const t0 = performance.now();
        await kv.put({ key: bytes(`other/${i % 100}`), value: Buffer.alloc(256, 0x70) });
        putMs.push(performance.now() - t0);
      }
    } finally {
      running = false;
      await Promise.all(loops);
      for (const s of sessions) s.close();
    }
    expect(answers.length).toBeGreaterThanOrEqual(RANGES_WANTED);
    for (const a of answers) expect(a).toEqual({ status: 0, bytes: expect.any(Number) });
    // 100,000 × (1 KiB value + 17-byte key + revisions): a full answer, never a truncated one.
    for (const a of answers) expect(a.bytes).toBeGreaterThan(KEYS * (VALUE.length + 17));
    expect(putMs.length).toBeGreaterThan(0);
    expect(Math.max(...putMs)).toBeLessThan(ELECTION_TIMEOUT_MS);

    const check = http2.connect(`http://${member!.endpoint}`, { settings: { initialWindowSize: WINDOW_BYTES } });
    const chunks: Buffer[] = [];
    try {
      expect((await rawRange(check, body, chunks)).status).toBe(0);
    } finally {
      check.close();
    }
    const full = etcdserverpb.RangeResponse.decode(Buffer.concat(chunks).subarray(5));
    expect(full.count).toBe(BigInt(KEYS));
    expect(full.kvs).toHaveLength(KEYS);
    expect(Buffer.from(full.kvs[0]!.key)).toEqual(key(0));
    expect(Buffer.from(full.kvs[KEYS - 1]!.key)).toEqual(key(KEYS - 1));
    expect(full.kvs.every((k) => k.modRevision <= full.header!.revision && Buffer.from(k.value).equals(VALUE))).toBe(true);
  }, 120_000);
});
