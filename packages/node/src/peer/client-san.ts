/**
 * etcd 3.4's check that a peer's client certificate names the address the connection comes from
 * (pkg/transport/listener_tls.go, checkCertSAN), applied by the peer listener with --peer-client-cert-auth unless
 * --experimental-peer-skip-client-san-verification: a certificate without SANs passes; one whose IP SANs hold the
 * remote IP passes; otherwise its DNS SANs must cover the remote IP, by a reverse lookup of the IP (names, and
 * `*.suffix` wildcards) or a forward lookup of a name that resolves to it. Lookups use the system resolver
 * (/etc/hosts included, as Go's), each bounded by a timeout.
 */
import { X509Certificate } from 'node:crypto';
import { promises as dns } from 'node:dns';
import net from 'node:net';

/** What one certificate names: its IP SANs (as printed) and DNS SANs, in certificate order. */
export interface CertSans {
  readonly ips: readonly string[];
  readonly dnsNames: readonly string[];
}

export interface SanResolver {
  /** Names the IP reverse-resolves to. */
  reverse(ip: string): Promise<string[]>;
  /** Addresses a name resolves to. */
  forward(name: string): Promise<string[]>;
}

/** How long one lookup may take before it counts as failed (Go's would wait on the listener's context). */
const LOOKUP_TIMEOUT_MS = 3_000;

export function sansOf(raw: Buffer): CertSans {
  const altNames = new X509Certificate(raw).subjectAltName ?? '';
  const ips: string[] = [];
  const dnsNames: string[] = [];
  for (const entry of altNames.split(', ')) {
    if (entry.startsWith('IP Address:')) ips.push(canonicalIp(entry.slice('IP Address:'.length)));
    else if (entry.startsWith('DNS:')) dnsNames.push(entry.slice('DNS:'.length));
  }
  return { ips, dnsNames };
}

/** The remote IP as Go prints a connection's address: IPv4-mapped IPv6 as plain IPv4, IPv6 compressed. */
export function canonicalIp(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped !== null) return mapped[1] as string;
  return net.isIPv6(ip) ? new URL(`http://[${ip}]`).hostname.slice(1, -1) : ip;
}

/** undefined when `sans` cover `remoteIp`; otherwise etcd's error text for the refusal. */
export async function checkClientSan(sans: CertSans, remoteIp: string, resolver: SanResolver = systemResolver): Promise<string | undefined> {
  const host = canonicalIp(remoteIp);
  if (sans.ips.length === 0 && sans.dnsNames.length === 0) return undefined;
  if (sans.ips.length > 0) {
    if (sans.ips.includes(host)) return undefined;
    // Go's x509.HostnameError for an IP.
    if (sans.dnsNames.length === 0) return `x509: certificate is valid for ${sans.ips.join(', ')}, not ${host}`;
  }
  const { ok, lookupError } = await hostInDns(host, sans.dnsNames, resolver);
  if (ok) return undefined;
  return `tls: ${goQuote(host)} does not match any of DNSNames [${sans.dnsNames.map(goQuote).join(' ')}]${lookupError === undefined ? '' : ` (${lookupError})`}`;
}

async function hostInDns(host: string, dnsNames: readonly string[], resolver: SanResolver): Promise<{ ok: boolean; lookupError?: string }> {
  const wildcards = dnsNames.filter((n) => n.startsWith('*.')).map((n) => n.slice(1));
  const names = dnsNames.filter((n) => !n.startsWith('*.'));
  let lookupError: string | undefined;
  try {
    for (const ptr of await resolver.reverse(host)) {
      const name = ptr.endsWith('.') ? ptr.slice(0, -1) : ptr;
      if (wildcards.some((w) => name.endsWith(w)) || names.includes(name)) return { ok: true };
    }
  } catch (err) {
    lookupError = lookupErrorText(host, err);
  }
  for (const name of names) {
    try {
      if ((await resolver.forward(name)).map(canonicalIp).includes(host)) return { ok: true };
    } catch (err) {
      lookupError = lookupErrorText(name, err);
    }
  }
  return lookupError === undefined ? { ok: false } : { ok: false, lookupError };
}

/** Go's wording where it has one ("lookup x: no such host"); the resolver's own text otherwise. */
function lookupErrorText(subject: string, err: unknown): string {
  const code = (err as { code?: unknown }).code;
  if (code === 'ENOTFOUND' || code === 'EAI_NONAME') return `lookup ${subject}: no such host`;
  return `lookup ${subject}: ${err instanceof Error ? err.message : String(err)}`;
}

/** Go's %q for the plain strings SANs are. */
function goQuote(s: string): string {
  return JSON.stringify(s);
}

function withTimeout<T>(p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error('i/o timeout')), LOOKUP_TIMEOUT_MS);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** getnameinfo / getaddrinfo, as Go's resolver on Linux reads /etc/hosts before DNS. */
export const systemResolver: SanResolver = {
  reverse: async (ip) => {
    const { hostname } = await withTimeout(dns.lookupService(ip, 0));
    // getnameinfo answers an unnamed IP with the IP itself, where Go's LookupAddr finds no name.
    if (hostname === ip) throw Object.assign(new Error('no such host'), { code: 'ENOTFOUND' });
    return [hostname];
  },
  forward: async (name) => (await withTimeout(dns.lookup(name, { all: true }))).map((a) => a.address),
};
