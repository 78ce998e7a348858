/**
 * Goal: issue 8's hardening promise. For a bounded time, random and mutated protobuf messages (with gRPC framing and
 * header abuse) go to every method of every client service — and, on Corvid, of the peer port's services — while
 * hostile connections send raw HTTP/2 garbage and one client opens a thousand Watch streams at once. Meanwhile a
 * writer puts keys. Afterwards: the member is still the same process, it answers requests correctly, no call it
 * was given whole was left unanswered, and every acknowledged write is there (in a watch opened before the fuzz,
 * at its revision with its value, and in the store after a kill -9 and restart).
 * Method: against etcd 3.4 (which proves the test's expectations hold for a real member) and then Corvid. Inputs
 * come from a seeded PRNG; a run is reproduced (its inputs, not their timing) with
 *   CORVID_FUZZ_SEED=<seed> CORVID_FUZZ_SECONDS=<s> node scripts/run-tests.mjs test/e2e/fuzz
 * The seed of each run is printed and is in every failure message.
 */
import http2 from 'node:http2';
import { connect } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { etcdserverpb } from '@corvid/proto';
import { bytes, kvClient, maintenanceClient, type KvApi } from '../harness/grpc.js';
import { MEMBER_KINDS, ProcessGroup, type Member, type MemberKind } from '../harness/processes.js';
import { clientMethods, corvidPeerMethods, fuzzBody, fuzzHeaders, fuzzMessage, grpcFrame, hostileConnection, Rng, type FuzzMethod } from '../harness/fuzz.js';
import { waitFor } from '../harness/wait.js';
import { WatchStreamClient } from '../differential/watch-client.js';

const FUZZ_MS = Number(process.env['CORVID_FUZZ_SECONDS'] ?? '15') * 1000;
const BASE_SEED = Number(process.env['CORVID_FUZZ_SEED'] ?? String(Math.floor(Math.random() * 0x7fff_ffff)));
/** Calls in flight at once (each fuzz worker waits for its call before the next). */
const WORKERS = 12;
/**
 * A unary call the client has ended must be answered (status, reset or GOAWAY) within this long: well past etcd's
 * request timeout (7 s), which a loaded machine stretches, short of a hang.
 */
const ANSWER_DEADLINE_MS = 20_000;
const FLOOD_STREAMS = 1_000;
const ETCD_CONF_CHANGE_CALL = /^\/etcdserverpb\.Cluster\/Member(Add|Remove|Update|Promote) /;
const WRITER_PREFIX = 'fuzz-acked/';
const WRITER_PREFIX_END = 'fuzz-acked0';

const group = new ProcessGroup();
afterAll(async () => group.cleanup());

type Answer = { kind: 'status'; code: number } | { kind: 'closed-without-status' } | { kind: 'no-answer' };

/** Sessions to one port, replaced when the server closes or kills them (a GOAWAY is a valid answer to garbage). */
class SessionPool {
  private sessions: http2.ClientHttp2Session[] = [];

  constructor(private readonly url: string, size: number) {
    for (let i = 0; i < size; i++) this.sessions.push(this.open());
  }

  get(rng: Rng): http2.ClientHttp2Session {
    const i = rng.int(this.sessions.length);
    const s = this.sessions[i]!;
    if (!s.closed && !s.destroyed) return s;
    const fresh = this.open();
    this.sessions[i] = fresh;
    return fresh;
  }

  closeAll(): void {
    for (const s of this.sessions) s.destroy();
  }

  private open(): http2.ClientHttp2Session {
    const s = http2.connect(this.url);
    s.on('error', () => undefined);
    // After a GOAWAY no new stream may start on it: drop it, the next get() opens another.
    s.on('goaway', () => s.destroy());
    return s;
  }
}

/** Sends one call and settles with how the server answered it; streaming calls are cancelled after `holdMs`. */
function sendCall(session: http2.ClientHttp2Session, headers: Record<string, string>, body: Buffer, method: FuzzMethod, holdMs: number, extra: Buffer | null): Promise<Answer> {
  return new Promise((resolve) => {
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.request(headers);
    } catch {
      resolve({ kind: 'closed-without-status' }); // the session is going away
      return;
    }
    let code: number | undefined;
    let timedOut = false;
    const take = (h: http2.IncomingHttpHeaders): void => {
      if (typeof h['grpc-status'] === 'string') code = Number(h['grpc-status']);
    };
    // A call the client ends must be answered in time; streams that stay open are cancelled after their hold.
    const mustFinish = method.shape === 'unary' || method.shape === 'server-stream';
    const ended = mustFinish || method.shape === 'subscription';
    const timer = setTimeout(() => {
      timedOut = mustFinish;
      stream.close(http2.constants.NGHTTP2_CANCEL);
    }, mustFinish ? ANSWER_DEADLINE_MS : holdMs);
    stream.on('response', take);
    stream.on('trailers', take);
    stream.on('data', () => undefined);
    stream.on('error', () => undefined);
    stream.on('close', () => {
      clearTimeout(timer);
      if (code !== undefined) resolve({ kind: 'status', code });
      else if (timedOut || !mustFinish) resolve({ kind: 'no-answer' });
      else resolve({ kind: 'closed-without-status' });
    });
    if (ended) {
      stream.end(body);
    } else {
      stream.write(body);
      if (extra !== null) stream.write(extra);
    }
  });
}

interface FuzzStats {
  calls: number;
  byAnswer: Map<string, number>;
  /** Unary calls, ended by the client, that got no answer within ANSWER_DEADLINE_MS: each is a hang. */
  unanswered: string[];
  hostileConnections: number;
  /** The longest any call of each method took (for the summary: what a slow member was busy with). */
  slowest: Map<string, number>;
}

async function fuzzWorker(rng: Rng, targets: { pool: SessionPool; methods: FuzzMethod[]; weight: number }[], until: number, stats: FuzzStats): Promise<void> {
  const total = targets.reduce((s, t) => s + t.weight, 0);
  while (performance.now() < until) {
    let r = rng.int(total);
    const target = targets.find((t) => (r -= t.weight) < 0)!;
    const method = rng.pick(target.methods);
    const { kind: headerKind, headers } = fuzzHeaders(rng, method.path);
    const message = fuzzMessage(rng, method);
    const { kind: framing, body } = fuzzBody(rng, message);
    const extra = rng.chance(0.5) ? grpcFrame(fuzzMessage(rng, method)) : null;
    const startedMs = performance.now();
    const answer = await sendCall(target.pool.get(rng), headers, body, method, 50 + rng.int(450), extra);
    const tookMs = performance.now() - startedMs;
    if (tookMs > (stats.slowest.get(method.path) ?? 0)) stats.slowest.set(method.path, Math.round(tookMs));
    stats.calls += 1;
    const label = answer.kind === 'status' ? `status ${answer.code}` : answer.kind;
    stats.byAnswer.set(label, (stats.byAnswer.get(label) ?? 0) + 1);
    // A GET or a non-gRPC content type is not a gRPC call: etcd hands it to its HTTP gateway, which may leave it open.
    const grpcCall = headerKind !== 'get-method' && headerKind !== 'json-content-type';
    if (answer.kind === 'no-answer' && grpcCall && (method.shape === 'unary' || method.shape === 'server-stream')) {
      stats.unanswered.push(`${method.path} headers=${headerKind} framing=${framing} body=${body.subarray(0, 48).toString('hex')}`);
    }
  }
}

/** Hostile TCP connections, one after another: write the bytes, linger a little, drop. */
async function hostileLoop(rng: Rng, port: number, until: number, stats: FuzzStats): Promise<void> {
  while (performance.now() < until) {
    const data = hostileConnection(rng);
    const linger = 20 + rng.int(200);
    await new Promise<void>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => resolve());
      socket.on('data', () => undefined);
      socket.on('connect', () => {
        socket.write(data);
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, linger);
      });
    });
    stats.hostileConnections += 1;
  }
}

/** One client opens FLOOD_STREAMS Watch streams at once on one connection, holds them, then drops the connection. */
async function streamFlood(endpoint: string, holdMs: number): Promise<number> {
  const session = http2.connect(`http://${endpoint}`);
  session.on('error', () => undefined);
  const create = grpcFrame(Buffer.from(etcdserverpb.WatchRequest.encode(etcdserverpb.WatchRequest.fromPartial({ requestUnion: { $case: 'createRequest', value: { key: bytes('fuzz/flood') } } })).finish()));
  let answered = 0;
  for (let i = 0; i < FLOOD_STREAMS; i++) {
    try {
      const stream = session.request({ ':method': 'POST', ':path': '/etcdserverpb.Watch/Watch', 'content-type': 'application/grpc', te: 'trailers' });
      stream.on('error', () => undefined);
      stream.once('data', () => {
        answered += 1;
      });
      stream.write(create);
    } catch {
      break; // the server capped the connection's streams: also a defence
    }
  }
  await delay(holdMs);
  session.destroy();
  return answered;
}

interface Acked {
  readonly key: string;
  readonly value: string;
  readonly revision: bigint;
}

/** Puts distinct keys one at a time until `until`, recording the acknowledged ones with their revisions. */
async function writer(kv: KvApi, until: number, acked: Acked[]): Promise<number> {
  let failures = 0;
  for (let n = 0; performance.now() < until; n++) {
    const key = `${WRITER_PREFIX}${String(n).padStart(6, '0')}`;
    const value = `value-${n}`;
    try {
      const r = await kv.put({ key: bytes(key), value: bytes(value) });
      acked.push({ key, value, revision: r.header!.revision });
    } catch {
      failures += 1;
      await delay(10);
    }
  }
  return failures;
}

function residentMiB(pid: number): number | 'gone' {
  if (!existsSync(`/proc/${pid}/status`)) return 'gone';
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:')) ?? 'VmRSS: 0 kB';
  return Math.round(Number(line.split(/\s+/)[1]) / 1024);
}

describe.each(MEMBER_KINDS.map((kind) => [kind]))('fuzzing a %s member', (kind: MemberKind) => {
  const seed = BASE_SEED + (kind === 'etcd' ? 0 : 1);
  const context = `(seed ${BASE_SEED}: CORVID_FUZZ_SEED=${BASE_SEED} CORVID_FUZZ_SECONDS=${FUZZ_MS / 1000})`;
  let member: Member;

  beforeAll(async () => {
    // CORVID_FUZZ_NODE_OPTIONS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/p`) profiles a Corvid member under the fuzz.
    const nodeOptions = process.env['CORVID_FUZZ_NODE_OPTIONS'];
    member = await group.start(kind, nodeOptions === undefined ? {} : { env: { NODE_OPTIONS: nodeOptions } });
  });

  afterAll(async () => {
    await member?.stop();
  });

  test(`survives ${FUZZ_MS / 1000} s of malformed calls, hostile connections and a stream flood without losing an acknowledged write`, async () => {
    const kv = kvClient(member.endpoint);
    const maintenance = maintenanceClient(member.endpoint);
    const pid = member.child.pid!;
    const startRevision = (await maintenance.status()).header!.revision;
    const watch = new WatchStreamClient(member.endpoint);
    watch.create({ key: bytes(WRITER_PREFIX), rangeEnd: bytes(WRITER_PREFIX_END), startRevision: startRevision + 1n });
    await watch.waitFor(1);

    const rng = new Rng(seed);
    const stats: FuzzStats = { calls: 0, byAnswer: new Map(), unanswered: [], hostileConnections: 0, slowest: new Map() };
    const clientPool = new SessionPool(`http://${member.endpoint}`, 4);
    const targets = [{ pool: clientPool, methods: clientMethods(), weight: 6 }];
    const hostilePorts = [member.port];
    let peerPool: SessionPool | undefined;
    if (kind === 'corvid') {
      peerPool = new SessionPool(`http://127.0.0.1:${member.peerPort}`, 2);
      targets.push({ pool: peerPool, methods: corvidPeerMethods(), weight: 1 });
      hostilePorts.push(member.peerPort);
    }
    const until = performance.now() + FUZZ_MS;
    const acked: Acked[] = [];
    const workers = Array.from({ length: WORKERS }, (_, i) => fuzzWorker(new Rng(seed * 31 + i), targets, until, stats));
    const hostile = hostilePorts.map((port, i) => hostileLoop(new Rng(seed * 97 + i), port, until, stats));
    const flood = delay(FUZZ_MS / 3).then(async () => streamFlood(member.endpoint, Math.min(3000, FUZZ_MS / 3)));
    const writerFailures = writer(kv, until, acked);
    const [floodAnswered, failures] = await Promise.all([flood, writerFailures]);
    await Promise.all([...workers, ...hostile]);
    clientPool.closeAll();
    peerPool?.closeAll();

    const summary = `${kind} ${context}: ${stats.calls} calls (${[...stats.byAnswer].map(([k, v]) => `${k}: ${v}`).join(', ')}), ${stats.hostileConnections} hostile connections, flood answered ${floodAnswered}/${FLOOD_STREAMS}, ${acked.length} writes acknowledged (${failures} failed), resident ${residentMiB(pid)} MiB; slowest calls (ms): ${[...stats.slowest].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([p, ms]) => `${p} ${ms}`).join(', ')}`;
    console.log(summary);

    // Still the same process, and it did real work meanwhile.
    expect({ exited: member.hasExited(), context, output: member.hasExited() ? member.outputTail(40) : '' }).toEqual({ exited: false, context, output: '' });
    expect(stats.calls).toBeGreaterThan(200);
    expect(acked.length).toBeGreaterThan(10);
    // Every call the client ended (unary, server-streaming) was answered: a status, a reset or a GOAWAY.
    // etcd 3.4's exception: its configure() waits without a deadline for the conf change it proposed, and Raft
    // drops one proposed while another is pending (concurrent fuzz calls), so such a call is never answered there.
    const owed = stats.unanswered.filter((u) => !(kind === 'etcd' && ETCD_CONF_CHANGE_CALL.test(u)));
    expect({ unanswered: owed.slice(0, 5), count: owed.length, context }).toEqual({ unanswered: [], count: 0, context });

    // Alarms a mutated Alarm call may have raised are cleared, then the member answers correctly.
    const alarms = await maintenance.alarm({ action: etcdserverpb.AlarmRequest_AlarmAction.GET });
    for (const a of alarms.alarms) await maintenance.alarm({ action: etcdserverpb.AlarmRequest_AlarmAction.DEACTIVATE, memberID: a.memberID, alarm: a.alarm });
    const after = await kv.put({ key: bytes('after-fuzz'), value: bytes('ok'), prevKv: true });
    const got = await kv.range({ key: bytes('after-fuzz') });
    expect(got.kvs.map((k) => [k.key.toString(), k.value.toString(), k.modRevision])).toEqual([['after-fuzz', 'ok', after.header!.revision]]);

    // Every acknowledged put is in the watch opened before the fuzz, at its revision, with its value.
    const last = acked[acked.length - 1]!.revision;
    const events = (): etcdserverpb.WatchResponse['events'] => watch.responses.flatMap((r) => r.events);
    await waitFor(() => events().some((e) => e.kv!.modRevision >= last), 10_000, `the watch to reach revision ${last} ${context}`);
    const seen = new Map(events().filter((e) => e.type === 0).map((e) => [`${e.kv!.key.toString()}@${e.kv!.modRevision}`, e.kv!.value.toString()]));
    const missing = acked.filter((a) => seen.get(`${a.key}@${a.revision}`) !== a.value);
    expect({ missing: missing.slice(0, 5), count: missing.length, context }).toEqual({ missing: [], count: 0, context });
    watch.close();

    // And they are in the store after a crash: kill -9, restart, each key as the last event on it left it.
    const lastEvent = new Map<string, string | null>();
    for (const e of events()) lastEvent.set(e.kv!.key.toString(), e.type === 0 ? e.kv!.value.toString() : null);
    kv.close();
    maintenance.close();
    if (process.env['CORVID_FUZZ_NODE_OPTIONS'] !== undefined) await member.stop(); // a profile is written at a clean exit
    await member.kill();
    member = await group.restart(member);
    const kv2 = kvClient(member.endpoint);
    const stored = await kv2.range({ key: bytes(WRITER_PREFIX), rangeEnd: bytes(WRITER_PREFIX_END) });
    kv2.close();
    const now = new Map(stored.kvs.map((k) => [k.key.toString(), k.value.toString()]));
    const lost = acked.filter((a) => (now.get(a.key) ?? null) !== lastEvent.get(a.key));
    expect({ lost: lost.slice(0, 5), count: lost.length, context }).toEqual({ lost: [], count: 0, context });
  }, FUZZ_MS + 120_000);
});
