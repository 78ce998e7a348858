// The resident memory of the server behind an endpoint, read from its Prometheus metrics (process_resident_memory_bytes,
// which etcd 3.4 and Corvid both serve at /metrics on the client URL), so it works for remote endpoints too.

const METRICS_TIMEOUT_MS = 5_000;

/** Resident MiB of the server at `endpoint` (host:port), or NaN when its /metrics does not answer with the metric. */
export async function residentMiB(endpoint: string): Promise<number> {
  try {
    const res = await fetch(`http://${endpoint}/metrics`, { signal: AbortSignal.timeout(METRICS_TIMEOUT_MS) });
    const m = /^process_resident_memory_bytes ([0-9.e+]+)$/m.exec(await res.text());
    return m === null ? Number.NaN : Number(m[1]) / (1024 * 1024);
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    return Number.NaN; // no metrics endpoint (TLS, or not served there): reported as n/a
  }
}
