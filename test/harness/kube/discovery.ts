/**
 * The API's discovery documents for the kinds a test server serves — what kubectl (client-go's RESTMapper)
 * reads before it touches an object: `/api` (APIVersions), `/apis` (APIGroupList), `/api/v1` and
 * `/apis/<group>/<version>` (APIResourceList, with each status subresource as `<plural>/status`), and
 * `/version`. Only the legacy (unaggregated) form: a client asking for aggregated discovery
 * (apidiscovery.k8s.io/v2) gets plain JSON back, and client-go falls back to the legacy documents, as it does
 * with servers older than Kubernetes 1.26.
 */
import type { ResourceType } from '../kube-api-server.js';

const VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
const STATUS_VERBS = ['get', 'patch', 'update'];

/** The Kubernetes release whose conventions the test server follows, as `/version` reports it. */
export const SERVER_VERSION = { major: '1', minor: '29', gitVersion: 'v1.29.0-corvid-test', platform: 'linux/amd64' };

function resourceList(types: readonly ResourceType[], groupVersion: string): unknown {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion,
    resources: types.flatMap((t) => [
      { name: t.plural, singularName: t.kind.toLowerCase(), namespaced: t.namespaced, kind: t.kind, verbs: VERBS },
      ...(t.statusSubresource ? [{ name: `${t.plural}/status`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: STATUS_VERBS }] : []),
    ]),
  };
}

/** The discovery document at `pathname`, or undefined when it is not a discovery path. */
export function discoveryDocument(types: readonly ResourceType[], pathname: string, serverAddress: string): unknown {
  const path = pathname.replace(/\/+$/u, '');
  if (path === '/version') return SERVER_VERSION;
  if (path === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
  if (path === '/api/v1') return resourceList(types.filter((t) => t.group === ''), 'v1');
  const groups = new Map<string, string[]>();
  for (const t of types.filter((x) => x.group !== '')) groups.set(t.group, [...new Set([...(groups.get(t.group) ?? []), t.version])]);
  if (path === '/apis') {
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [...groups].map(([name, versions]) => {
        const list = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
        return { name, versions: list, preferredVersion: list[0] };
      }),
    };
  }
  const m = path.match(/^\/apis\/([^/]+)(?:\/([^/]+))?$/u);
  if (m === null) return undefined;
  const [, group, version] = m as unknown as [string, string, string | undefined];
  const versions = groups.get(group);
  if (versions === undefined) return undefined;
  if (version === undefined) {
    const list = versions.map((v) => ({ groupVersion: `${group}/${v}`, version: v }));
    return { kind: 'APIGroup', apiVersion: 'v1', name: group, versions: list, preferredVersion: list[0] };
  }
  if (!versions.includes(version)) return undefined;
  return resourceList(types.filter((t) => t.group === group && t.version === version), `${group}/${version}`);
}
