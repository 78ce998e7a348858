/**
 * The composition root of one member: opens the store, builds the write path and the services,
 * and listens on every client URL. Wiring only: behaviour lives in the modules it connects.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Server, ServerCredentials, type Metadata, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { corvidpb, etcdserverpb, grpchealth } from '@corvid/proto';
import { Applier, type ApplyResult } from '../apply/index.js';
import { createClusterService } from '../api/cluster-service.js';
import { createMembershipPeerService, fetchCluster, forwardPromote } from '../api/peer-membership.js';
import { createHashKvPeerService, fetchPeerHashKV } from '../api/peer-hashkv.js';
import { listenForClients, type ClientListener } from '../api/client-listener.js';
import type { MemberIdentity } from '../api/header.js';
import { createHealthService, HealthState } from '../api/health-service.js';
import { createHttpServer, type HttpDeps } from '../api/http/handler.js';
import { listenForMetrics } from '../api/http/metrics-listener.js';
import { DEFAULT_QUOTA_BYTES, QuotaChecker } from '../alarm/index.js';
import { createAuthService } from '../api/auth-service.js';
import { tokenOf } from '../api/auth-caller.js';
import { checkClientTls } from '../api/client-tls.js';
import { createKvService, KV_SERVICE_DEFINITION } from '../api/kv-service.js';
import { createLeasePeerService, PeerLeaseForwarder } from '../api/lease-peer.js';
import { createLeaseService } from '../api/lease-service.js';
import { createMaintenanceService } from '../api/maintenance-service.js';
import { WatchService } from '../api/watch-service.js';
import { GrpcServices } from '../api/grpc-services.js';
import { grpcServerOptions } from '../api/grpc-server-options.js';
import { enforcePingPolicy } from '../api/ping-policy.js';
import { GRPC_JS_HARD_LIMIT_FACTOR } from '../api/grpc-refusals.js';
import { AuthGate, createTokenProvider, effectiveBcryptCost, type AuthInfo } from '../auth/index.js';
import { formatId } from '../cluster/index.js';
import { CorvidError, isCorvidError } from '../errors/index.js';
import { autoCompactionOf, verifyConfig, type Config } from '../config/index.js';
import { createRegistry, GrpcMetrics } from '../metrics/index.js';
import { startTracing, traceProposals } from '../tracing/index.js';
import { Lessor } from '../lease/index.js';
import { KvStore } from '../mvcc/index.js';
import { WatchableStore } from '../mvcc/watch/index.js';
import { listenForPeers, PeerTls, PeerTransport } from '../peer/index.js';
import { createRaftDriverMetrics, RaftDriver, REAL_CLOCK, Wal } from '../raft-driver/index.js';
import { Backend } from '../storage/index.js';
import type { Logger } from '../util/logger.js';
import { ETCD_API_VERSION } from '../version.js';
import { AutoCompactor } from './auto-compactor.js';
import { clientTlsOf } from './auto-tls.js';
import { MembershipManager } from './membership-manager.js';
import { linkWalDir } from './wal-dir.js';
import { checkInitialHashKV, CorruptionMonitor, type CorruptCheckDeps } from './corrupt-check.js';
import { countHealthChecks, createApplyObserver, createServerMetrics, registerStateGauges } from './metrics.js';
import { publishAttributes } from './publish.js';
import { planStartup, removeSnapshotLeftovers } from './startup.js';
import { LeaseExpiryLoop, minLeaseTtlSeconds } from './lease-expiry.js';
import { LeaderLeases } from './lease-renewer.js';
import { Proposer } from './proposer.js';
import { RequestIdGenerator } from './request-id.js';

/** etcd adds this to --max-request-bytes for gRPC's own limit (embed/config.go grpcOverheadBytes). */
const GRPC_OVERHEAD_BYTES = 512 * 1024;
/** etcd answers ErrTooManyRequests once applied lags committed by this many entries (maxGapBetweenApplyAndCommitIndex). */
const MAX_PENDING_PROPOSALS = 5000;
/** etcd's ReqTimeout(): 5 s plus two election timeouts; a proposal not applied by then times out. */
const requestTimeoutMs = (config: Config): number => 5000 + 2 * config.electionTimeoutMs;
/** How long a starting member waits to see a leader before it serves anyway (requests then fail as etcd's). */
const leaderWaitMs = (config: Config): number => 2 * config.electionTimeoutMs;

export interface MemberOptions {
  readonly config: Config;
  readonly logger: Logger;
  /** Called if the member hits a broken invariant (failed disk write): it must stop. */
  readonly onFatal: (err: unknown) => void;
}

export interface RunningMember {
  readonly memberId: bigint;
  readonly clusterId: bigint;
  /** host:port of every client listener, in --listen-client-urls order. */
  readonly clientAddresses: readonly string[];
  /** Resolves if the member stops on its own: it was removed from the cluster. */
  readonly stopped: Promise<void>;
  close(): Promise<void>;
}

/** How long a removed member keeps serving before it stops (answers in flight get out). */
const REMOVED_STOP_DELAY_MS = 500;

export async function startMember({ config, logger, onFatal }: MemberOptions): Promise<RunningMember> {
  verifyConfig(config);
  const autoCompaction = autoCompactionOf(config);
  linkWalDir(config.dataDir, config.walDir);
  // --auto-tls may stand in for --cert-file/--key-file.
  const clientTls = clientTlsOf(config, logger);
  checkClientTls(config.listenClientUrls, clientTls);
  // Peer TLS (peer/peer-tls.ts): the peer listeners and every member-to-member client.
  const peerTls = new PeerTls(config.peerTls, logger);
  const peerChannel = peerTls.channelCredentials();
  // Auth tokens are member memory (auth/tokens.ts); a bad --auth-token stops the start here, as etcd's.
  const authTokens = createTokenProvider({ authToken: config.authToken, authTokenTtlSeconds: config.authTokenTtlSeconds, monotonicNowMs: () => performance.now(), wallNowMs: Date.now });
  const registry = createRegistry();
  const grpcMetrics = new GrpcMetrics(registry, config.metrics);
  // 'data': the WAL is synced before anything is applied and replays what an OS crash takes from
  // the backend, so the backend's commits skip the meta-page sync (one sync I/O per Ready saved;
  // the file stays consistent). The log compactor awaits backend.flushed() before the WAL forgets.
  const backend = Backend.open({ dataDir: config.dataDir, registry, durability: 'data' });
  const kv = new KvStore(backend, { registry, ...(config.compactionBatchLimit > 0 ? { compactionChunkEntries: config.compactionBatchLimit } : {}) });
  const lessor = new Lessor(backend, { registry, checkpointIntervalMs: config.leaseCheckpointEnabled ? config.leaseCheckpointIntervalMs : 0 });
  const applier = new Applier(backend, kv, lessor, createApplyObserver(registry, { warnApplySeconds: config.warningApplyDurationMs / 1000, logger }));
  registerStateGauges(registry, { currentRevision: () => kv.currentRevision(), compactedRevision: () => kv.compactedRevision(), leases: () => lessor.list().length, authRevision: () => applier.auth.revision() });
  applier.auth.useTokenProvider(authTokens);
  // Applied index and ReadIndex for tokens issued through entries not applied here yet (the driver exists by then).
  const authGate = new AuthGate(applier.auth, authTokens, { appliedIndex: () => applier.appliedIndex(), readBarrier: () => driver().readBarrier() });
  const walWriteThread = process.env['CORVID_EXPERIMENTAL_WAL_WRITE_THREAD'] === '1';
  const wal = Wal.open({ dataDir: config.dataDir, writeThread: walWriteThread });
  const closeStores = async (): Promise<void> => {
    await kv.close();
    await wal.close();
    await backend.close();
  };

  // etcd checks only a member that had data before this start (embed: memberInitialized).
  const memberInitialized = wal.identity() !== undefined;
  let plan;
  try {
    plan = await planStartup({ config, wal, backend, members: applier.members, appliedIndex: applier.appliedIndex(), logger, fetchCluster: (urls) => fetchCluster(urls, peerChannel) });
  } catch (err) {
    await closeStores();
    throw err;
  }
  const { memberId, clusterId } = plan.identity;
  const corruptCheck: CorruptCheckDeps = {
    memberId, logger, localHash: () => kv.hashKVInPool(0), peers: () => applier.members.list(),
    fetchPeer: (urls, rev, signal) => fetchPeerHashKV(urls, rev, requestTimeoutMs(config), signal, peerChannel),
  };
  if (config.initialCorruptCheck && memberInitialized) {
    try {
      await checkInitialHashKV(corruptCheck);
    } catch (err) {
      await closeStores();
      throw err;
    }
  }
  const serverMetrics = createServerMetrics(registry, {
    serverVersion: ETCD_API_VERSION,
    memberIdHex: formatId(memberId),
    quotaBackendBytes: config.quotaBackendBytes === 0 ? DEFAULT_QUOTA_BYTES : config.quotaBackendBytes,
  });

  const memberDir = join(config.dataDir, 'member');
  const snapshotDir = join(memberDir, 'snap');
  let raft: RaftDriver<ApplyResult> | undefined;
  const driver = (): RaftDriver<ApplyResult> => {
    if (raft === undefined) throw new Error('the raft driver is not built yet');
    return raft;
  };
  let removed: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    removed = resolve;
  });
  const transport = new PeerTransport({
    memberId, clusterId, snapshotDir, registry, logger, tls: peerTls,
    handler: {
      // A removed member that comes back must not disrupt the cluster with its campaigns.
      step: (m) => {
        if (!applier.members.isRemoved(m.from)) driver().step(m);
      },
      receiveSnapshot: (m, path) => driver().receiveSnapshot(m, path),
      reportUnreachable: (id) => driver().reportUnreachable(id),
      reportSnapshot: (id, status) => driver().reportSnapshot(id, status),
    },
    // A follower too far behind gets a compacted copy of the backend, made on LMDB's own thread.
    snapshots: {
      open: async () => {
        const dir = await mkdtemp(join(memberDir, 'snap-out-'));
        const path = await backend.copyTo(dir);
        return { path, release: () => rm(dir, { recursive: true, force: true }) };
      },
    },
  });
  // The transport follows the applied membership; a joiner knows the cluster it asked until its
  // snapshot brings the membership.
  let peerIds = new Set<bigint>();
  const syncPeers = (): void => {
    const known = applier.members.list();
    const peers = (known.length > 0 ? known : plan.remoteMembers).filter((m) => m.ID !== memberId);
    serverMetrics.isLearner.set(applier.members.get(memberId)?.isLearner === true ? 1 : 0);
    for (const m of peers) transport.setPeer(m.ID, m.peerURLs);
    const wanted = new Set(peers.map((m) => m.ID));
    for (const id of peerIds) if (!wanted.has(id)) transport.removePeer(id);
    peerIds = wanted;
  };
  applier.members.onChange(syncPeers);
  syncPeers();

  const peerListeners: Array<{ address: string; close(): Promise<void> }> = [];
  let leaderLeases: LeaderLeases | undefined;
  let membershipManager: MembershipManager | undefined;
  const membershipService = createMembershipPeerService({
    clusterId,
    membership: {
      list: () => applier.members.list(),
      promoteOnLeader: (id) => {
        if (membershipManager === undefined) throw new Error('not serving yet');
        return membershipManager.promoteOnLeader(id);
      },
    },
  });
  try {
    raft = new RaftDriver<ApplyResult>({
      memberId, wal, applier, store: backend, clock: REAL_CLOCK, transport,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      electionTimeoutMs: config.electionTimeoutMs,
      snapshotCount: config.snapshotCount,
      preVote: config.preVote,
      walWriteThread,
      maxPendingProposals: MAX_PENDING_PROPOSALS,
      requestTimeoutMs: requestTimeoutMs(config),
      metrics: { ...serverMetrics, ...createRaftDriverMetrics(registry) },
      logger,
      random: (below) => Math.floor(Math.random() * below),
      onFatal,
      appliedConfState: () => (applier.members.isEmpty() ? null : applier.members.confState()),
      snapshotFile: (snap) => join(snapshotDir, `${snap.metadata.term}-${snap.metadata.index}.db`),
      onRemoved: () => {
        logger.warn('the member has been permanently removed from the cluster; the data-dir used by this member must be removed', { 'member-id': formatId(memberId) });
        // Leave a moment for the answer to the MemberRemove that removed us, if we took it.
        setTimeout(removed, REMOVED_STOP_DELAY_MS);
      },
    });
    removeSnapshotLeftovers(memberDir, snapshotDir);
    // Peers are heard only once the driver exists: a message stepped earlier would find no one.
    for (const url of config.listenPeerUrls) {
      const listener = await listenForPeers(url, transport, [
        { definition: corvidpb.MembershipService, implementation: membershipService },
        // Followers' keepalives and TimeToLive reach this member's lessor here when it leads.
        { definition: etcdserverpb.LeaseService, implementation: createLeasePeerService(() => leaderLeases) },
        // Only HashKV, for the leader's corruption check (etcd's /members/hashkv).
        { definition: etcdserverpb.MaintenanceService, implementation: createHashKvPeerService({ identity: { clusterId, memberId, raftTerm: () => BigInt(raft?.term() ?? 0) }, hashKV: (rev) => kv.hashKVInPool(rev) }) },
      ], peerTls);
      peerListeners.push(listener);
      logger.info('serving peer traffic', { address: listener.address, url });
    }
    raft.start();
  } catch (err) {
    await Promise.all(peerListeners.map((l) => l.close()));
    await raft?.close();
    await transport.close();
    await closeStores();
    throw err;
  }
  const raftDriver = raft;
  if (!(await raftDriver.waitForLeader(leaderWaitMs(config)))) logger.warn('serving without a leader', { 'election-timeout': config.electionTimeoutMs });
  const identity: MemberIdentity = { clusterId, memberId, raftTerm: () => BigInt(raftDriver.term()) };
  const requestIds = new RequestIdGenerator(memberId, Date.now());
  // Tracing starts once the member id is known; off (undefined) unless the flags or OTEL_* ask for it.
  const tracing = startTracing({ config: config.tracing, memberIdHex: formatId(memberId), logger });
  const proposalLog = tracing === undefined ? raftDriver : {
    propose: traceProposals(tracing, (data, trace) => raftDriver.propose(data, trace)),
    proposeConfChange: (cc: Parameters<typeof raftDriver.proposeConfChange>[0]) => raftDriver.proposeConfChange(cc),
  };
  const proposer = new Proposer({ memberId, log: proposalLog, requestIds, maxRequestBytes: config.maxRequestBytes, nowMs: Date.now });
  membershipManager = new MembershipManager({
    raft: {
      memberId,
      isLeader: () => raftDriver.isLeader(),
      leader: () => raftDriver.status().leader,
      progress: () => raftDriver.progress(),
    },
    members: applier.members,
    proposer,
    activeForMs: (id) => {
      const since = transport.activeSince(id);
      return since === null ? null : performance.now() - since;
    },
    strictReconfigCheck: config.strictReconfigCheck,
    forwardPromote: (leader, id) => forwardPromote(leader, id, peerChannel),
    nowMs: Date.now,
  });
  // etcd's publish: the member's name and client URLs reach every member through the log.
  const publishing = publishAttributes({
    memberId, name: config.name, clientUrls: config.advertiseClientUrls, members: applier.members, proposer, logger,
  });

  const maxReceiveBytes = config.maxRequestBytes + GRPC_OVERHEAD_BYTES;
  const ctx = {
    metrics: grpcMetrics, logger, tracing, isLearner: () => applier.members.get(memberId)?.isLearner === true,
    hasLeader: () => raftDriver.hasLeader(),
    authReady: (metadata: Metadata) => authGate.tokenPending(tokenOf(metadata)),
  };
  const grpcServer = new Server({
    ...grpcServerOptions(config.grpc),
    'grpc.max_receive_message_length': Math.min(maxReceiveBytes * GRPC_JS_HARD_LIMIT_FACTOR, 2 ** 31 - 1),
    'grpc.max_send_message_length': 2 ** 31 - 1,
  });
  const services = new GrpcServices(grpcServer, maxReceiveBytes, ctx.isLearner, grpcMetrics);
  const addService = <S extends ServiceDefinition>(service: S, implementation: UntypedServiceImplementation): void => services.add(grpcMetrics.register(service), implementation);
  const quota = new QuotaChecker(config.quotaBackendBytes, () => backend.sizeInUseBytes());
  const readBarrier = async (): Promise<void> => {
    const endTimer = serverMetrics.readIndexWait.startTimer();
    await raftDriver.readBarrier();
    endTimer();
  };
  addService(KV_SERVICE_DEFINITION, createKvService(ctx, { identity, kv, proposer, maxTxnOps: config.maxTxnOps, quota, readBarrier, auth: authGate }));
  addService(etcdserverpb.MaintenanceService, createMaintenanceService(ctx, {
    identity, backend, kv, alarms: applier.alarms, proposer, raftStatus: () => raftDriver.status(),
    snapshotWorkDir: memberDir, auth: authGate,
    // Writes are held by pausing the Raft loop (storage/defrag.ts); a leader may lose leadership meanwhile, as etcd's.
    defragment: async () => {
      await backend.defragment({ writer: raftDriver, logger });
    },
    isLearner: () => applier.members.get(memberId)?.isLearner === true,
    moveLeader: (target) => {
      const transferee = applier.members.get(target);
      if (transferee === undefined || transferee.isLearner) return Promise.reject(new CorvidError('BadLeaderTransferee'));
      return raftDriver.transferLeadership(target, requestTimeoutMs(config));
    },
  }));
  addService(etcdserverpb.ClusterService, createClusterService(ctx, { identity, membership: membershipManager, auth: authGate }));
  // Watchers are told of each batch by the applier after its commit; hasleader streams close when the leader goes.
  const watchable = new WatchableStore(kv, backend, { registry });
  const watch = new WatchService({
    identity, store: watchable, kv, fragmentBytes: maxReceiveBytes, logger, auth: authGate,
    hasLeader: () => raftDriver.hasLeader(), leaderCheckIntervalMs: config.electionTimeoutMs,
    progressNotifyIntervalMs: config.watchProgressNotifyIntervalMs,
  });
  addService(etcdserverpb.WatchService, watch.implementation());
  // The member's own proposals (lease expiry, auto-compaction) pass the auth checks as root, as etcd's do.
  const asRoot = (): AuthInfo => ({ username: 'root', revision: applier.auth.revision() });
  // The leader expires leases and checkpoints them; keepalives and TimeToLive need the leader's lessor.
  // Expired leases are revoked as root, as etcd's authStore.WithRoot: with auth on, the applier checks revokes.
  const leaseExpiry = new LeaseExpiryLoop({
    lessor, raft: raftDriver, propose: (body) => proposer.propose(body, asRoot()), electionTimeoutMs: config.electionTimeoutMs, logger,
  });
  leaseExpiry.start();
  // etcd's monitorKVHash (--experimental-corrupt-check-time; 0: off). The alarm's proposal carries no user, as etcd's.
  const corruptionMonitor = new CorruptionMonitor({
    ...corruptCheck, intervalMs: config.corruptCheckTimeMs, isLeader: () => raftDriver.isLeader(), readBarrier, registry,
    raiseCorrupt: (id) => proposer.propose({ $case: 'alarm', value: { action: etcdserverpb.AlarmRequest_AlarmAction.ACTIVATE, memberID: id, alarm: etcdserverpb.AlarmType.CORRUPT } }),
  });
  corruptionMonitor.start();
  // --auto-compaction-*: the leader proposes Compact as etcd's v3compactor (as root, like lease expiry).
  const autoCompactor = new AutoCompactor({
    policy: autoCompaction, logger, currentRevision: () => kv.currentRevision(), isLeader: () => raftDriver.isLeader(),
    compact: async (revision) => {
      await proposer.propose({ $case: 'compaction', value: etcdserverpb.CompactionRequest.fromPartial({ revision: BigInt(revision) }) }, asRoot());
    },
    isCompacted: (err) => isCorvidError(err, 'Compacted'),
  });
  autoCompactor.start();
  const leaseIds = new RequestIdGenerator(memberId, Date.now());
  // A follower forwards keepalives and TimeToLive to the leader's peer URLs (etcd's leasehttp).
  const leaseForwarder = new PeerLeaseForwarder((id) => applier.members.get(id)?.peerURLs ?? [], peerChannel);
  const renewer = new LeaderLeases({ memberId, lessor, leader: () => raftDriver.status().leader, requestTimeoutMs: requestTimeoutMs(config), forwarder: leaseForwarder });
  leaderLeases = renewer;
  addService(etcdserverpb.LeaseService, createLeaseService(ctx, {
    identity, kv, proposer, lessor, renewer, minTtlSeconds: minLeaseTtlSeconds(config.heartbeatIntervalMs, config.electionTimeoutMs), nextId: () => leaseIds.next(), auth: authGate,
  }));
  const bcryptCost = effectiveBcryptCost(config.bcryptCost);
  if (bcryptCost !== config.bcryptCost) logger.warn(`use default bcrypt-cost ${bcryptCost} instead of the invalid value ${config.bcryptCost}`);
  addService(etcdserverpb.AuthService, createAuthService(ctx, { identity, proposer, gate: authGate, readBarrier, nowMs: Date.now, bcryptCost }));
  // The gRPC health service etcd registers beside its own (grpc-go's health server).
  const health = new HealthState();
  addService(grpchealth.HealthService, createHealthService(ctx, health));

  const httpDeps: HttpDeps = {
    registry,
    // etcd 3.4's checkHealth: unhealthy while any alarm is raised or there is no leader; then a
    // range through the request path must answer.
    isHealthy: countHealthChecks(registry, async () => {
      if (applier.alarms.list().length > 0 || raftDriver.status().leader === 0n) return false;
      kv.range(etcdserverpb.RangeRequest.fromPartial({ key: Buffer.from('health'), keysOnly: true, limit: 1n }));
      return true;
    }),
    // JSON bodies are base64 and quoting on top of the protobuf size: allow twice etcd's gRPC limit.
    gateway: { invoke: services.invoke, maxBodyBytes: 2 * maxReceiveBytes },
    hostWhitelist: config.hostWhitelist,
    ...(process.env['CORVID_EXPERIMENTAL_FAULT_INJECTION'] === '1' ? { peerFaults: { isolate: (ids: readonly bigint[]) => transport.isolate(ids) } } : {}),
  };
  const httpServer = createHttpServer(httpDeps);

  const closeAll = async (listeners: readonly ClientListener[]): Promise<void> => {
    health.shutdown();
    await Promise.all(listeners.map((l) => l.close()));
    await leaseExpiry.close();
    await corruptionMonitor.close();
    await autoCompactor.close();
    leaseForwarder.close();
    await raftDriver.close();
    await publishing.stop();
    await Promise.all(peerListeners.map((l) => l.close()));
    await transport.close();
    grpcServer.forceShutdown();
    await closeStores();
    // Exports the spans still batched.
    await tracing?.shutdown();
  };
  const listeners: ClientListener[] = [];
  try {
    for (const url of config.listenClientUrls) {
      const listener = await listenForClients(url, grpcServer, ServerCredentials.createInsecure(), httpServer, clientTls, config.grpc.maxConcurrentStreams);
      listeners.push(listener);
      logger.info('serving client traffic', { address: listener.address, url });
    }
    enforcePingPolicy(grpcServer, config.grpc.keepaliveMinTimeMs);
    for (const url of config.listenMetricsUrls) {
      const listener = await listenForMetrics(url, httpDeps);
      listeners.push(listener);
      logger.info('serving metrics', { address: listener.address, url });
    }
  } catch (err) {
    await closeAll(listeners);
    throw err;
  }
  logger.info('member ready', { 'member-id': formatId(memberId), 'cluster-id': formatId(clusterId), 'data-dir': config.dataDir });

  return {
    memberId,
    clusterId,
    clientAddresses: listeners.map((l) => l.address),
    stopped,
    close: () => closeAll(listeners),
  };
}
