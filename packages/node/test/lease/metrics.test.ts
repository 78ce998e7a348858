/**
 * Goal: the lease metrics exist with etcd 3.4's names and count what etcd counts (grants and revokes on every
 * member at apply, renewals on the leader, granted TTLs in the histogram), and the LeaseKeepAlive stream is counted
 * as go-grpc-prometheus counts a bidi stream. Method: a lessor and GrpcMetrics on a private registry.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { status } from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { Applier } from '../../src/apply/index.js';
import { Lessor } from '../../src/lease/index.js';
import { GrpcMetrics } from '../../src/metrics/index.js';
import { Harness } from '../mvcc/harness.js';

const open: Harness[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
});

async function value(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = await registry.getSingleMetric(name)?.get();
  return metric?.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x) && (v as { metricName?: string }).metricName !== `${name}_bucket`)?.value;
}

describe('lease metrics', () => {
  it('counts grants, revokes, renewals, TTLs and expiries with etcd names', async () => {
    const registry = new Registry();
    const h = Harness.open();
    open.push(h);
    const lessor = new Lessor(h.backend, { registry, nowMs: () => 0 });
    h.applier = new Applier(h.backend, h.kv, lessor);
    h.ok({ $case: 'leaseGrant', value: { ID: 1n, TTL: 10n } });
    h.ok({ $case: 'leaseGrant', value: { ID: 2n, TTL: 100n } });
    h.ok({ $case: 'leaseRevoke', value: { ID: 1n } });
    lessor.promote(0);
    lessor.renew(2n);
    expect(await value(registry, 'etcd_debugging_lease_granted_total')).toBe(2);
    expect(await value(registry, 'etcd_debugging_lease_revoked_total')).toBe(1);
    expect(await value(registry, 'etcd_debugging_lease_renewed_total')).toBe(1);
    const ttls = await registry.getSingleMetric('etcd_debugging_lease_ttl_total')?.get();
    expect(ttls?.values.find((v) => (v as { metricName?: string }).metricName === 'etcd_debugging_lease_ttl_total_sum')?.value).toBe(110);
    for (const name of ['etcd_debugging_server_lease_expired_total', 'corvid_lease_expiry_batch_leases', 'corvid_lease_checkpoints_total', 'corvid_lease_checkpoint_batch_leases']) {
      expect(registry.getSingleMetric(name)).toBeDefined();
    }
  });

  it('counts a bidi stream: started, each message in and out, handled with its code', async () => {
    const registry = new Registry();
    const metrics = new GrpcMetrics(registry);
    const labels = { grpc_type: 'bidi_stream', grpc_service: 'etcdserverpb.Lease', grpc_method: 'LeaseKeepAlive' };
    const stream = metrics.startBidiStream('etcdserverpb.Lease', 'LeaseKeepAlive');
    stream.receivedMessage();
    stream.receivedMessage();
    stream.sentMessage();
    stream.end(status.CANCELLED);
    expect(await value(registry, 'grpc_server_started_total', labels)).toBe(1);
    expect(await value(registry, 'grpc_server_msg_received_total', labels)).toBe(2);
    expect(await value(registry, 'grpc_server_msg_sent_total', labels)).toBe(1);
    expect(await value(registry, 'grpc_server_handled_total', { ...labels, grpc_code: 'Canceled' })).toBe(1);
  });
});
