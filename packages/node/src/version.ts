/**
 * Versions a member reports. Clients (kube-apiserver, etcdctl) gate features on the etcd version
 * they see, so Corvid reports the etcd release whose behaviour it matches, and its own version
 * separately where etcd's format leaves room for it (`corvid --version`, metrics).
 */
export const CORVID_VERSION = '0.1.0';
/** The etcd server version whose API and behaviour Corvid matches. */
export const ETCD_API_VERSION = '3.4.23';
/** The cluster version etcd 3.4 reports (major.minor.0). */
export const ETCD_CLUSTER_VERSION = '3.4.0';
