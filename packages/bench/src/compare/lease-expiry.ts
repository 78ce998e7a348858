// bench:compare --lease-expiry: issue 5's expiry at scale, for each server in alternation (etcd, Corvid, … for
// --rounds rounds, each on the same running server: every round's leases are gone before the next starts).
import { loadavg } from 'node:os';
import { DEFAULT_LEASE_EXPIRY, runLeaseExpiry, type LeaseExpiryOptions } from '../lease-expiry.js';
import type { CompareArgs } from './main.js';
import type { RunningServer } from './servers.js';

const f = (n: number, d = 0): string => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

export async function runLeaseExpiryCompare(servers: readonly RunningServer[], args: CompareArgs): Promise<void> {
  const base: Omit<LeaseExpiryOptions, 'endpoint'> = { ...DEFAULT_LEASE_EXPIRY, leases: args.leases, ttlSeconds: args.leaseTtlSeconds };
  console.log(`${base.leases} leases of TTL ${base.ttlSeconds} s, one key each; puts at ${base.putRate}/s on other keys meanwhile`);
  console.log('| server | round | grant+put s | keys gone after last expiry s | after first expiry s | put p99 ms before | put p99 ms during expiry | p99 ratio | put max ms during | failures grant/put | load1 |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (let round = 1; round <= args.rounds; round++) {
    for (const s of servers) {
      const r = await runLeaseExpiry({ ...base, endpoint: s.endpoint }, (line) => console.error(`${s.name} round ${round}: ${line}`));
      const load1 = loadavg()[0]!;
      console.log(`| ${s.name} | ${round} | ${f(r.grantSeconds, 1)} | ${f(r.goneAfterLastExpirySeconds, 2)} | ${f(r.goneAfterFirstExpirySeconds, 2)} | ` +
        `${f(r.baseline.p99Ms, 2)} | ${f(r.duringExpiry.p99Ms, 2)} | ${f(r.duringExpiry.p99Ms / r.baseline.p99Ms, 2)}× | ${f(r.duringExpiry.maxMs, 1)} | ` +
        `${r.grantFailures}/${r.putFailures} | ${f(load1, 2)} |`);
    }
  }
}
