/**
 * The operator's own credentials for a cluster's members: plain text, or — when `spec.tls.client` names a
 * Secret — TLS with that Secret's CA (to verify the members) and its certificate and key (members run with
 * `--client-cert-auth`, so the operator must present one). The Secret is read on every pass, so a rotated
 * Secret takes effect on the next one.
 */
import type { EtcdCluster } from '../crd/types.js';
import type { Kube } from '../controller/kube.js';
import { TLS_SECRET_FILES } from '../act/resources.js';
import type { ClientTls, EtcdClients, MemberClients } from './etcd-client.js';

export async function clientTlsOf(kube: Kube, c: EtcdCluster): Promise<ClientTls | undefined> {
  const secretName = c.spec.tls?.client?.secretName;
  if (secretName === undefined) return undefined;
  const data = await kube.getSecret(c.metadata.namespace, secretName);
  const pick = (file: string): Buffer => {
    const value = data[file];
    if (value === undefined || value.length === 0) throw new Error(`client TLS Secret ${secretName} has no ${file}`);
    return value;
  };
  return { ca: pick(TLS_SECRET_FILES.ca), cert: pick(TLS_SECRET_FILES.cert), key: pick(TLS_SECRET_FILES.key) };
}

export async function memberClientsFor(kube: Kube, clients: EtcdClients, c: EtcdCluster): Promise<MemberClients> {
  return clients.withTls(await clientTlsOf(kube, c));
}
