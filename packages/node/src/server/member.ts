/**
 * The composition root of one member: opens the store, builds the write path and the services,
 * and listens on every client URL. Wiring only: behaviour lives in the modules it connects.
 */
import { join } from 'node:path';
import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { etcdserverpb, grpchealth } from '@corvid/proto';
import { Applier, type ApplyResult } from '../apply/index.js';
import { createClusterService } from '../api/cluster-service.js';
import { listenForClients, type ClientListener } from '../api/client-listener.js';
import type { MemberIdentity } from '../api/header.js';
import { createHealthService, HealthState } from '../api/health-service.js';
import { createHttpServer, type HttpDeps } from '../api/http/handler.js';
import { listenForMetrics } from '../api/http/metrics-listener.js';
import { DEFAULT_QUOTA_BYTES, QuotaChecker } from '../alarm/index.js';
import { createKvService } from '../api/kv-service.js';
import { createLeaseService } from '../api/lease-service.js';
import { createMaintenanceService } from '../api/maintenance-service.js';
import { WatchService } from '../api/watch-service.js';
import { GrpcServices } from '../api/grpc-services.js';
import { GRPC_JS_HARD_LIMIT_FACTOR } from '../api/grpc-refusals.js';
import { BootstrapError, formatId, resolveInitialCluster } from '../cluster/index.js';
import { verifyConfig, type Config } from '../config/index.js';
import { createRegistry, GrpcMetrics } from '../metrics/index.js';
import { Lessor } from '../lease/index.js';
import { KvStore } from '../mvcc/index.js';
import { WatchableStore } from '../mvcc/watch/index.js';
import { createRaftDriverMetrics, NO_PEERS, RaftDriver, REAL_CLOCK, Wal } from '../raft-driver/index.js';
import { Backend } from '../storage/index.js';
import type { Logger } from '../util/logger.js';
import { ETCD_API_VERSION } from '../version.js';
import { createServerMetrics } from './metrics.js';
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
  close(): Promise<void>;
}

export async function startMember({ config, logger, onFatal }: MemberOptions): Promise<RunningMember> {
  const bootstrap = resolveInitialCluster(config);
  if (bootstrap.members.length > 1) {
    throw new BootstrapError(`--initial-cluster lists ${bootstrap.members.length} members, but Corvid serves a single member until clustering lands (issue #4)`);
  }
  verifyConfig(config);
  const memberId = bootstrap.self.id;
  const clusterId = bootstrap.clusterId;

  const registry = createRegistry();
  const grpcMetrics = new GrpcMetrics(registry);
  const serverMetrics = createServerMetrics(registry, {
    serverVersion: ETCD_API_VERSION,
    memberIdHex: formatId(memberId),
    quotaBackendBytes: config.quotaBackendBytes === 0 ? DEFAULT_QUOTA_BYTES : config.quotaBackendBytes,
  });

  const backend = Backend.open({ dataDir: config.dataDir, registry });
  const kv = new KvStore(backend, { registry });
  const lessor = new Lessor(backend, { registry, checkpointIntervalMs: config.leaseCheckpointEnabled ? config.leaseCheckpointIntervalMs : 0 });
  const applier = new Applier(backend, kv, lessor);
  const wal = Wal.open({ dataDir: config.dataDir });
  let raft: RaftDriver<ApplyResult>;
  try {
    raft = new RaftDriver<ApplyResult>({
      memberId, wal, applier, store: backend, clock: REAL_CLOCK, transport: NO_PEERS,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      electionTimeoutMs: config.electionTimeoutMs,
      snapshotCount: config.snapshotCount,
      maxPendingProposals: MAX_PENDING_PROPOSALS,
      requestTimeoutMs: requestTimeoutMs(config),
      metrics: { ...serverMetrics, ...createRaftDriverMetrics(registry) },
      logger,
      random: (below) => Math.floor(Math.random() * below),
      onFatal,
    });
    raft.start();
  } catch (err) {
    await wal.close();
    await kv.close();
    await backend.close();
    throw err;
  }
  if (!(await raft.waitForLeader(leaderWaitMs(config)))) logger.warn('serving without a leader', { 'election-timeout': config.electionTimeoutMs });
  const identity: MemberIdentity = { clusterId, memberId, raftTerm: () => BigInt(raft.term()) };
  const proposer = new Proposer({
    memberId,
    log: raft,
    requestIds: new RequestIdGenerator(memberId, Date.now()),
    maxRequestBytes: config.maxRequestBytes,
    nowMs: Date.now,
  });

  const maxReceiveBytes = config.maxRequestBytes + GRPC_OVERHEAD_BYTES;
  const ctx = { metrics: grpcMetrics, logger };
  const grpcServer = new Server({
    'grpc.max_receive_message_length': Math.min(maxReceiveBytes * GRPC_JS_HARD_LIMIT_FACTOR, 2 ** 31 - 1),
    'grpc.max_send_message_length': 2 ** 31 - 1,
  });
  const services = new GrpcServices(grpcServer, maxReceiveBytes);
  const addService = <S extends ServiceDefinition>(service: S, implementation: UntypedServiceImplementation): void => services.add(service, implementation);
  const quota = new QuotaChecker(config.quotaBackendBytes, () => backend.sizeInUseBytes());
  addService(etcdserverpb.KVService, createKvService(ctx, { identity, kv, proposer, maxTxnOps: config.maxTxnOps, quota }));
  addService(etcdserverpb.MaintenanceService, createMaintenanceService(ctx, {
    identity, backend, kv, alarms: applier.alarms, proposer, raftStatus: () => raft.status(),
    snapshotWorkDir: join(config.dataDir, 'member'),
  }));
  const self: etcdserverpb.Member = {
    ID: memberId, name: config.name, peerURLs: [...bootstrap.self.peerUrls], clientURLs: [...config.advertiseClientUrls], isLearner: false,
  };
  addService(etcdserverpb.ClusterService, createClusterService(ctx, { identity, members: () => [self] }));
  // Auth arrives with its issue (#8); until then every method is UNIMPLEMENTED.
  // Watchers are told of each batch by the applier after its commit; hasleader streams close when the leader goes.
  const watchable = new WatchableStore(kv, backend, { registry });
  const watch = new WatchService({
    identity, store: watchable, kv, fragmentBytes: maxReceiveBytes, logger,
    hasLeader: () => raft.status().leader !== 0n, leaderCheckIntervalMs: config.electionTimeoutMs,
  });
  addService(etcdserverpb.WatchService, watch.implementation());
  // The leader expires leases and checkpoints them; keepalives and TimeToLive need the leader's lessor.
  const leaseExpiry = new LeaseExpiryLoop({ lessor, raft, propose: (body) => proposer.propose(body), electionTimeoutMs: config.electionTimeoutMs, logger });
  leaseExpiry.start();
  const leaseIds = new RequestIdGenerator(memberId, Date.now());
  // TODO(#4): pass the cluster transport's LeaseForwarder, so a follower's keepalives reach the leader (docs/leases.md).
  const renewer = new LeaderLeases({ memberId, lessor, leader: () => raft.status().leader, requestTimeoutMs: requestTimeoutMs(config) });
  addService(etcdserverpb.LeaseService, createLeaseService(ctx, {
    identity, kv, proposer, lessor, renewer, minTtlSeconds: minLeaseTtlSeconds(config.heartbeatIntervalMs, config.electionTimeoutMs), nextId: () => leaseIds.next(),
  }));
  addService(etcdserverpb.AuthService, {});
  // The gRPC health service etcd registers beside its own (grpc-go's health server).
  const health = new HealthState();
  addService(grpchealth.HealthService, createHealthService(ctx, health));

  const httpDeps: HttpDeps = {
    registry,
    // etcd 3.4's checkHealth: unhealthy while any alarm is raised or there is no leader; then a
    // range through the request path must answer.
    isHealthy: async () => {
      if (applier.alarms.list().length > 0 || raft.status().leader === 0n) return false;
      kv.range(etcdserverpb.RangeRequest.fromPartial({ key: Buffer.from('health'), keysOnly: true, limit: 1n }));
      return true;
    },
    // JSON bodies are base64 and quoting on top of the protobuf size: allow twice etcd's gRPC limit.
    gateway: { invoke: services.invoke, maxBodyBytes: 2 * maxReceiveBytes },
  };
  const httpServer = createHttpServer(httpDeps);

  const listeners: ClientListener[] = [];
  try {
    for (const url of config.listenClientUrls) {
      const listener = await listenForClients(url, grpcServer, ServerCredentials.createInsecure(), httpServer);
      listeners.push(listener);
      logger.info('serving client traffic', { address: listener.address, url });
    }
    for (const url of config.listenMetricsUrls) {
      const listener = await listenForMetrics(url, httpDeps);
      listeners.push(listener);
      logger.info('serving metrics', { address: listener.address, url });
    }
  } catch (err) {
    await Promise.all(listeners.map((l) => l.close()));
    await leaseExpiry.close();
    await raft.close();
    await kv.close();
    await wal.close();
    await backend.close();
    throw err;
  }
  logger.info('member ready', { 'member-id': formatId(memberId), 'cluster-id': formatId(clusterId), 'data-dir': config.dataDir });

  return {
    memberId,
    clusterId,
    clientAddresses: listeners.map((l) => l.address),
    close: async () => {
      health.shutdown();
      await Promise.all(listeners.map((l) => l.close()));
      await leaseExpiry.close();
      await raft.close();
      grpcServer.forceShutdown();
      await kv.close();
      await wal.close();
      await backend.close();
    },
  };
}
