/**
 * --host-whitelist: etcd 3.4's guard against DNS rebinding (CVE-2018-5702). An HTTP request that
 * did not come over TLS and whose Host header names a host not on the list is answered 421 with
 * etcd's text; '*' or an empty list lets every host in (etcd's default).
 */
import type http from 'node:http';

export type HostWhitelist = readonly string[];

/** Whether `req` may be served: over TLS always, otherwise when its Host (port dropped) is on the list. */
export function hostAllowed(whitelist: HostWhitelist, req: http.IncomingMessage): boolean {
  if (whitelist.length === 0 || whitelist.includes('*')) return true;
  if ((req.socket as { encrypted?: boolean }).encrypted === true) return true;
  return whitelist.includes(hostnameOf(req.headers.host ?? ''));
}

/** Go's net.SplitHostPort, falling back to the whole value (etcd's httputil.GetHostname). */
function hostnameOf(host: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(host);
  if (bracketed !== null) return bracketed[1] as string;
  const colon = host.lastIndexOf(':');
  return colon >= 0 && host.indexOf(':') === colon ? host.slice(0, colon) : host;
}

/** etcd's errCVE20185702 body for a refused Host. */
export function hostRefusedText(req: http.IncomingMessage): string {
  const host = hostnameOf(req.headers.host ?? '');
  return `
etcd received your request, but the Host header was unrecognized.

To fix this, choose one of the following options:
- Enable TLS, then any HTTPS request will be allowed.
- Add the hostname you want to use to the whitelist in settings.
  - e.g. etcd --host-whitelist ${JSON.stringify(host)}

This requirement has been added to help prevent "DNS Rebinding" attacks (CVE-2018-5702).
`;
}
