/**
 * The operator's own credentials for a cluster's members: plain text, or — when `spec.tls.client` names a
 * Secret — TLS with that Secret's CA (to verify the members) and its certificate and key (members run with
 * `--client-cert-auth`, so the operator must present one). The Secret is read on every pass, so a rotated
 * Secret takes effect on the next one. A missing Secret or key is an expected outcome, returned as a problem
 * the planner waits on (`ClientTLSSecretNotReady`), not thrown.
 */
import type { EtcdCluster } from '../crd/types.js';
import { isNotFound, type Kube } from '../controller/kube.js';
import { TLS_SECRET_FILES } from '../act/resources.js';
import type { ClientTls } from './etcd-client.js';

export type ClientTlsResult = { readonly ok: true; readonly tls: ClientTls | undefined } | { readonly ok: false; readonly problem: string };

export async function loadClientTls(kube: Kube, c: EtcdCluster): Promise<ClientTlsResult> {
  const secretName = c.spec.tls?.client?.secretName;
  if (secretName === undefined) return { ok: true, tls: undefined };
  let data: Record<string, Buffer>;
  try {
    data = await kube.getSecret(c.metadata.namespace, secretName);
  } catch (err) {
    if (isNotFound(err)) return { ok: false, problem: `client TLS Secret ${secretName} not found` };
    throw err;
  }
  const missing = Object.values(TLS_SECRET_FILES).filter((file) => (data[file]?.length ?? 0) === 0);
  if (missing.length > 0) return { ok: false, problem: `client TLS Secret ${secretName} has no ${missing.join(', ')}` };
  return { ok: true, tls: { ca: data[TLS_SECRET_FILES.ca] as Buffer, cert: data[TLS_SECRET_FILES.cert] as Buffer, key: data[TLS_SECRET_FILES.key] as Buffer } };
}
