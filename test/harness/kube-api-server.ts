/**
 * A Kubernetes API test server: plain HTTP on 127.0.0.1 (port 0), speaking the REST conventions that
 * `@kubernetes/client-node` and the operator rely on, with the real semantics kept:
 * - one cluster-wide resourceVersion counter; every write bumps it; PUT with a stale metadata.resourceVersion
 *   gets 409 Conflict (reason Conflict), POST of an existing name 409 AlreadyExists, a missing object 404
 *   NotFound, a schema violation 422 Invalid — all as metav1.Status objects shaped like kube-apiserver's;
 * - metadata.generation starts at 1 and is bumped only when something outside metadata and status changes;
 * - resources with a status subresource: POST and PUT of the main resource ignore `.status`, PUT `/status`
 *   changes only `.status`;
 * - list with labelSelector (=, ==, !=, in, notin, exists, !exists) and fieldSelector metadata.name/namespace;
 * - watch (`?watch=1|true`) from a resourceVersion: newline-delimited JSON events ADDED/MODIFIED/DELETED,
 *   BOOKMARK when allowWatchBookmarks is set, an ERROR event with a 410 Gone Status when the requested version
 *   is older than the retained history (`historyLimit` events), timeoutSeconds honoured;
 * - DELETE of an object with finalizers only sets deletionTimestamp; it goes once the last finalizer is
 *   removed by an update; background garbage collection deletes dependents whose every ownerReference
 *   points to a deleted owner;
 * - merge-patch (application/merge-patch+json and, treated the same, strategic-merge-patch) on main and status;
 * - custom resources are defaulted, pruned and validated with their CRD's openAPIV3Schema;
 * - a Secret's stringData is merged into data (base64) and not stored;
 * - `?dryRun=All` on create, update, patch and delete: checked, defaulted and answered, not stored;
 * - discovery (kube/discovery.ts): /api, /apis, /api/v1, /apis/<group>[/<version>] and /version, legacy
 *   form, so the real kubectl maps kinds to resources (test/operator/kubectl.test.ts).
 * It does not do: authentication/authorization, admission webhooks, server-side apply, JSON patch,
 * deleteCollection, field managers, fieldValidation=Strict (unknown fields of custom resources are pruned),
 * graceful pod deletion (pods go at once; the test kubelet kills them), the pvc-protection finalizer,
 * aggregated discovery, OpenAPI documents (/openapi/v2, /openapi/v3: kubectl needs --validate=false),
 * protobuf, namespace lifecycle (objects may be created in a namespace that does not exist), or any controller
 * besides garbage collection (a CRD object does not start serving its kind; a Deployment starts no pods).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { applyDefaults, prune, validate, type JsonSchema } from './kube/openapi-schema.js';
import { discoveryDocument } from './kube/discovery.js';

/** A kind the server serves. */
export interface ResourceType {
  readonly group: string; // '' for core
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly statusSubresource: boolean;
  readonly schema?: JsonSchema;
}

export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata: KubeMeta;
  spec?: unknown;
  status?: unknown;
  [key: string]: unknown;
};

export interface KubeMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }[];
  [key: string]: unknown;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  readonly rv: number;
  readonly type: WatchEventType;
  readonly resource: ResourceType;
  readonly object: KubeObject;
}

/** The built-in kinds the operator touches. */
export const CORE_TYPES: readonly ResourceType[] = [
  { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true, statusSubresource: true },
  { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true, statusSubresource: true },
  { group: '', version: 'v1', plural: 'persistentvolumeclaims', kind: 'PersistentVolumeClaim', namespaced: true, statusSubresource: true },
  { group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true, statusSubresource: false },
  { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true, statusSubresource: false },
  { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true, statusSubresource: false },
  { group: 'policy', version: 'v1', plural: 'poddisruptionbudgets', kind: 'PodDisruptionBudget', namespaced: true, statusSubresource: true },
  { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true, statusSubresource: false },
  // The other kinds of deploy/ (what `kubectl apply -k deploy/` reads and writes): stored with the generic
  // semantics only — no namespace lifecycle, no RBAC enforcement, no Deployment controller, a CRD does not
  // start serving its kind.
  { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false, statusSubresource: true },
  { group: '', version: 'v1', plural: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true, statusSubresource: false },
  { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespaced: true, statusSubresource: true },
  { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterroles', kind: 'ClusterRole', namespaced: false, statusSubresource: false },
  { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterrolebindings', kind: 'ClusterRoleBinding', namespaced: false, statusSubresource: false },
  { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'roles', kind: 'Role', namespaced: true, statusSubresource: false },
  { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'rolebindings', kind: 'RoleBinding', namespaced: true, statusSubresource: false },
  { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false, statusSubresource: true },
];

const apiVersionOf = (t: ResourceType): string => (t.group === '' ? t.version : `${t.group}/${t.version}`);
const DEFAULT_HISTORY_LIMIT = 10_000;
const BOOKMARK_INTERVAL_MS = 1_000;

interface Watcher {
  readonly resource: ResourceType;
  readonly namespace: string | undefined;
  readonly matches: (o: KubeObject) => boolean;
  send(type: string, object: unknown): void;
}

class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

function statusBody(err: ApiError): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: err.message, reason: err.reason, details: err.details, code: err.code };
}

/** Parses a label selector string into a predicate over labels. */
export function parseLabelSelector(selector: string): (labels: Record<string, string>) => boolean {
  const terms: ((l: Record<string, string>) => boolean)[] = [];
  // Split on commas that are not inside parentheses.
  for (const raw of selector.split(/,(?![^(]*\))/u)) {
    const term = raw.trim();
    if (term === '') continue;
    let m: RegExpMatchArray | null;
    if ((m = term.match(/^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/u)) !== null) {
      const [, key, op, list] = m as unknown as [string, string, string, string];
      const values = new Set(list.split(',').map((v) => v.trim()));
      terms.push(op === 'in' ? (l) => l[key] !== undefined && values.has(l[key]) : (l) => l[key] === undefined || !values.has(l[key]));
    } else if ((m = term.match(/^([\w./-]+)\s*(!=|==|=)\s*([\w./-]*)$/u)) !== null) {
      const [, key, op, value] = m as unknown as [string, string, string, string];
      terms.push(op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value);
    } else if ((m = term.match(/^!([\w./-]+)$/u)) !== null) {
      const key = m[1] as string;
      terms.push((l) => l[key] === undefined);
    } else if ((m = term.match(/^([\w./-]+)$/u)) !== null) {
      const key = m[1] as string;
      terms.push((l) => l[key] !== undefined);
    } else {
      throw new ApiError(400, 'BadRequest', `unable to parse requirement: ${term}`);
    }
  }
  return (labels) => terms.every((t) => t(labels));
}

function parseFieldSelector(selector: string): (o: KubeObject) => boolean {
  const terms = selector.split(',').filter((t) => t !== '').map((t) => {
    const m = t.match(/^([\w.]+)\s*(!=|==|=)\s*(.*)$/u);
    if (m === null) throw new ApiError(400, 'BadRequest', `invalid field selector: ${t}`);
    const [, field, op, value] = m as unknown as [string, string, string, string];
    const get = (o: KubeObject): unknown => field.split('.').reduce<unknown>((acc, k) => (acc as Record<string, unknown> | undefined)?.[k], o);
    return op === '!=' ? (o: KubeObject) => get(o) !== value : (o: KubeObject) => get(o) === value;
  });
  return (o) => terms.every((t) => t(o));
}

/** JSON merge patch (RFC 7386). */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

const withoutMetaAndStatus = (o: KubeObject): string => {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = o;
  return JSON.stringify(rest);
};

/** The object store with the API's write semantics; the HTTP layer and the test kubelet both use it. */
export class KubeStore {
  private rv = 1;
  private readonly objects = new Map<string, KubeObject>();
  private readonly history: StoreEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly listeners = new Set<(e: StoreEvent) => void>();
  readonly types: ResourceType[];

  constructor(types: readonly ResourceType[], private readonly historyLimit = DEFAULT_HISTORY_LIMIT) {
    this.types = [...types];
  }

  get resourceVersion(): number {
    return this.rv;
  }

  typeFor(group: string, plural: string): ResourceType | undefined {
    return this.types.find((t) => t.group === group && t.plural === plural);
  }

  type(kind: string): ResourceType {
    const t = this.types.find((x) => x.kind === kind);
    if (t === undefined) throw new Error(`unknown kind ${kind}`);
    return t;
  }

  /** In-process subscription (the test kubelet); events arrive synchronously after each write. */
  subscribe(listener: (e: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private key(t: ResourceType, ns: string | undefined, name: string): string {
    return `${t.group}/${t.plural}/${t.namespaced ? (ns ?? '') : ''}/${name}`;
  }

  get(t: ResourceType, ns: string | undefined, name: string): KubeObject {
    const o = this.objects.get(this.key(t, ns, name));
    if (o === undefined) throw new ApiError(404, 'NotFound', `${t.plural}${t.group === '' ? '' : `.${t.group}`} "${name}" not found`, { name, group: t.group, kind: t.plural });
    return structuredClone(o);
  }

  tryGet(t: ResourceType, ns: string | undefined, name: string): KubeObject | undefined {
    const o = this.objects.get(this.key(t, ns, name));
    return o === undefined ? undefined : structuredClone(o);
  }

  list(t: ResourceType, ns: string | undefined, filter: (o: KubeObject) => boolean = () => true): KubeObject[] {
    const prefix = `${t.group}/${t.plural}/${t.namespaced && ns !== undefined ? `${ns}/` : ''}`;
    return [...this.objects.entries()]
      .filter(([k, o]) => k.startsWith(prefix) && filter(o))
      .map(([, o]) => structuredClone(o))
      .sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
  }

  private emit(type: WatchEventType, t: ResourceType, object: KubeObject): void {
    const event: StoreEvent = { rv: this.rv, type, resource: t, object: structuredClone(object) };
    this.history.push(event);
    if (this.history.length > this.historyLimit) this.history.shift();
    for (const w of this.watchers) {
      if (w.resource === t && (w.namespace === undefined || w.namespace === object.metadata.namespace) && w.matches(object)) w.send(type, object);
    }
    for (const l of this.listeners) l(event);
  }

  /** Oldest resourceVersion a watch can resume from; older ones get 410 Gone. */
  private oldestWatchable(): number {
    return this.history.length === 0 || this.history.length < this.historyLimit ? 0 : (this.history[0] as StoreEvent).rv - 1;
  }

  private admit(t: ResourceType, o: KubeObject): void {
    if (t.kind === 'Secret' && o['stringData'] !== undefined) {
      // As the API server does: stringData is write-only and merged into data, base64-encoded.
      const data = { ...(o['data'] as Record<string, string> | undefined) };
      for (const [k, v] of Object.entries(o['stringData'] as Record<string, string>)) data[k] = Buffer.from(v, 'utf8').toString('base64');
      o['data'] = data;
      delete o['stringData'];
    }
    if (t.schema === undefined) return;
    const { metadata, ...body } = o;
    applyDefaults(t.schema, body);
    prune(t.schema, body);
    const errors = validate(t.schema, body, '');
    Object.assign(o, body);
    for (const k of Object.keys(o)) if (k !== 'metadata' && !(k in body)) delete o[k];
    o.metadata = metadata;
    if (errors.length > 0) {
      const fixed = errors.map((e) => ({ ...e, field: e.field.replace(/^\./u, '') }));
      throw new ApiError(422, 'Invalid', `${t.kind} "${o.metadata.name}" is invalid: ${fixed.map((e) => `${e.field}: ${e.message}`).join(', ')}`, { name: o.metadata.name, group: t.group, kind: t.kind, causes: fixed.map((e) => ({ reason: e.reason, message: e.message, field: e.field })) });
    }
  }

  /** `dryRun` (the API's `?dryRun=All`): every check and default, nothing stored, no event, no new version. */
  create(t: ResourceType, ns: string | undefined, body: KubeObject, dryRun = false): KubeObject {
    const o = structuredClone(body);
    o.metadata = { ...(o.metadata ?? {}) };
    if (o.metadata.name === undefined || o.metadata.name === '') {
      if (o.metadata.generateName === undefined) throw new ApiError(422, 'Invalid', `${t.kind} "" is invalid: metadata.name: Required value: name or generateName is required`);
      o.metadata.name = `${o.metadata.generateName}${randomUUID().slice(0, 5)}`;
    }
    const name = o.metadata.name;
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/u.test(name) || name.length > 253) {
      throw new ApiError(422, 'Invalid', `${t.kind} "${name}" is invalid: metadata.name: Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`);
    }
    if (t.namespaced) {
      if (o.metadata.namespace !== undefined && ns !== undefined && o.metadata.namespace !== ns) throw new ApiError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
      o.metadata.namespace = ns ?? o.metadata.namespace ?? 'default';
    }
    const k = this.key(t, o.metadata.namespace, name);
    if (this.objects.has(k)) throw new ApiError(409, 'AlreadyExists', `${t.plural}${t.group === '' ? '' : `.${t.group}`} "${name}" already exists`, { name, group: t.group, kind: t.plural });
    if (t.statusSubresource) delete o.status;
    o.apiVersion = apiVersionOf(t);
    o.kind = t.kind;
    this.admit(t, o);
    Object.assign(o.metadata, { uid: randomUUID(), generation: 1, creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/u, 'Z') });
    delete o.metadata.deletionTimestamp;
    if (dryRun) return structuredClone(o);
    this.rv += 1;
    o.metadata.resourceVersion = String(this.rv);
    this.objects.set(k, o);
    this.emit('ADDED', t, o);
    return structuredClone(o);
  }

  /**
   * PUT semantics. `subresource` 'status' replaces only .status; the main resource keeps the stored status
   * when the type has a status subresource. A non-empty stale resourceVersion is a 409 Conflict.
   */
  update(t: ResourceType, ns: string | undefined, name: string, body: KubeObject, subresource?: 'status', dryRun = false): KubeObject {
    const k = this.key(t, ns, name);
    const old = this.objects.get(k);
    if (old === undefined) throw new ApiError(404, 'NotFound', `${t.plural}${t.group === '' ? '' : `.${t.group}`} "${name}" not found`, { name, group: t.group, kind: t.plural });
    const sentRv = body.metadata?.resourceVersion;
    if (sentRv !== undefined && sentRv !== '' && sentRv !== old.metadata.resourceVersion) {
      throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${t.plural}${t.group === '' ? '' : `.${t.group}`} "${name}": the object has been modified; please apply your changes to the latest version and try again`, { name, group: t.group, kind: t.plural });
    }
    if ((sentRv === undefined || sentRv === '') && t.schema !== undefined) {
      throw new ApiError(422, 'Invalid', `${t.kind} "${name}" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update`);
    }
    let next: KubeObject;
    if (subresource === 'status') {
      next = { ...structuredClone(old), status: structuredClone(body.status) };
    } else {
      next = structuredClone(body);
      next.metadata = { ...body.metadata };
      if (t.statusSubresource) next.status = structuredClone(old.status);
      // Immutable or server-owned metadata.
      for (const f of ['uid', 'creationTimestamp', 'deletionTimestamp', 'generation', 'namespace', 'name'] as const) {
        if (old.metadata[f] === undefined) delete next.metadata[f];
        else (next.metadata as Record<string, unknown>)[f] = old.metadata[f];
      }
      if (old.metadata.deletionTimestamp !== undefined) {
        const added = (next.metadata.finalizers ?? []).filter((f) => !(old.metadata.finalizers ?? []).includes(f));
        if (added.length > 0) throw new ApiError(422, 'Forbidden', `${t.kind} "${name}" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted`);
      }
    }
    next.apiVersion = apiVersionOf(t);
    next.kind = t.kind;
    this.admit(t, next);
    if (subresource !== 'status' && withoutMetaAndStatus(next) !== withoutMetaAndStatus(old)) {
      next.metadata.generation = (old.metadata.generation ?? 1) + 1;
    }
    if (JSON.stringify(next) === JSON.stringify({ ...old })) return structuredClone(old); // a no-op write keeps the version
    if (dryRun) return structuredClone(next);
    this.rv += 1;
    next.metadata.resourceVersion = String(this.rv);
    this.objects.set(k, next);
    if (next.metadata.deletionTimestamp !== undefined && (next.metadata.finalizers ?? []).length === 0) {
      this.remove(t, k, next);
      return structuredClone(next);
    }
    this.emit('MODIFIED', t, next);
    return structuredClone(next);
  }

  patch(t: ResourceType, ns: string | undefined, name: string, patchBody: unknown, subresource?: 'status', dryRun = false): KubeObject {
    const current = this.get(t, ns, name);
    const merged = mergePatch(current, patchBody) as KubeObject;
    const rvInPatch = (patchBody as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
    merged.metadata.resourceVersion = rvInPatch ?? current.metadata.resourceVersion ?? '';
    return this.update(t, ns, name, merged, subresource, dryRun);
  }

  delete(t: ResourceType, ns: string | undefined, name: string, dryRun = false): KubeObject {
    const k = this.key(t, ns, name);
    const old = this.objects.get(k);
    if (old === undefined) throw new ApiError(404, 'NotFound', `${t.plural}${t.group === '' ? '' : `.${t.group}`} "${name}" not found`, { name, group: t.group, kind: t.plural });
    if (dryRun) {
      const o = structuredClone(old);
      if ((o.metadata.finalizers ?? []).length > 0) o.metadata.deletionTimestamp ??= new Date().toISOString().replace(/\.\d+Z$/u, 'Z');
      return o;
    }
    if ((old.metadata.finalizers ?? []).length > 0) {
      if (old.metadata.deletionTimestamp !== undefined) return structuredClone(old);
      const next = structuredClone(old);
      next.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d+Z$/u, 'Z');
      this.rv += 1;
      next.metadata.resourceVersion = String(this.rv);
      this.objects.set(k, next);
      this.emit('MODIFIED', t, next);
      return structuredClone(next);
    }
    this.remove(t, k, old);
    return structuredClone(old);
  }

  private remove(t: ResourceType, k: string, o: KubeObject): void {
    this.objects.delete(k);
    this.rv += 1;
    const gone = { ...o, metadata: { ...o.metadata, resourceVersion: String(this.rv) } };
    this.emit('DELETED', t, gone);
    this.collectGarbage();
  }

  /** Background propagation: dependents whose every owner is gone are deleted (recursively, via delete()). */
  private collectGarbage(): void {
    const liveUids = new Set([...this.objects.values()].map((o) => o.metadata.uid));
    for (const [k, o] of [...this.objects.entries()]) {
      const owners = o.metadata.ownerReferences ?? [];
      if (owners.length === 0 || owners.some((r) => liveUids.has(r.uid))) continue;
      if (!this.objects.has(k) || o.metadata.deletionTimestamp !== undefined) continue;
      const t = this.types.find((x) => k.startsWith(`${x.group}/${x.plural}/`));
      if (t !== undefined) this.delete(t, o.metadata.namespace, o.metadata.name as string);
    }
  }

  /** Registers a watcher; returns the initial events to send (or a 410 Gone marker) and an unsubscribe. */
  watch(w: Watcher, fromRv: string | undefined): { gone: boolean; close: () => void } {
    if (fromRv === undefined || fromRv === '' || fromRv === '0') {
      for (const o of this.list(w.resource, w.namespace, w.matches)) w.send('ADDED', o);
    } else {
      const from = Number(fromRv);
      if (!Number.isInteger(from) || from < this.oldestWatchable()) return { gone: true, close: () => undefined };
      for (const e of this.history) {
        if (e.rv > from && e.resource === w.resource && (w.namespace === undefined || w.namespace === e.object.metadata.namespace) && w.matches(e.object)) w.send(e.type, e.object);
      }
    }
    this.watchers.add(w);
    return { gone: false, close: () => this.watchers.delete(w) };
  }
}

interface Route {
  readonly resource: ResourceType;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  readonly subresource: 'status' | undefined;
}

function route(store: KubeStore, pathname: string): Route | undefined {
  const parts = pathname.split('/').filter((p) => p !== '').map(decodeURIComponent);
  let group: string;
  let rest: string[];
  if (parts[0] === 'api' && parts[1] === 'v1') {
    group = '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    group = parts[1] as string;
    rest = parts.slice(3);
  } else {
    return undefined;
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const resource = store.typeFor(group, rest[0] ?? '');
  if (resource === undefined) return undefined;
  const sub = rest[2];
  if (sub !== undefined && sub !== 'status') return undefined;
  return { resource, namespace, name: rest[1], subresource: sub };
}

/** `?dryRun=All` (the only value the API accepts); any other value is refused as kube-apiserver does. */
function parseDryRun(q: URLSearchParams): boolean {
  const values = q.getAll('dryRun');
  const bad = values.find((v) => v !== 'All');
  if (bad !== undefined) throw new ApiError(400, 'BadRequest', `Invalid dry run value: dryRun: Unsupported value: "${bad}": supported values: "All"`);
  return values.length > 0;
}

/** The HTTP face of a KubeStore. */
export class KubeApiServer {
  readonly store: KubeStore;
  private server: Server | undefined;
  private readonly openStreams = new Set<ServerResponse>();
  port = 0;

  constructor(types: readonly ResourceType[], options: { historyLimit?: number } = {}) {
    this.store = new KubeStore([...CORE_TYPES, ...types], options.historyLimit);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** A kubeconfig (YAML-compatible JSON) pointing at this server with no credentials. */
  kubeconfig(namespace = 'default'): string {
    return JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      // client-node refuses plain http unless TLS verification is explicitly off.
      clusters: [{ name: 'test', cluster: { server: this.url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'test', user: {} }],
      contexts: [{ name: 'test', context: { cluster: 'test', user: 'test', namespace } }],
      'current-context': 'test',
    });
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.sendError(res, err);
        else res.end();
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const s of this.openStreams) s.end();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server === undefined ? resolve() : this.server.close(() => resolve())));
  }

  private sendError(res: ServerResponse, err: unknown): void {
    const e = err instanceof ApiError ? err : new ApiError(500, 'InternalError', err instanceof Error ? err.message : String(err));
    this.send(res, e.code, statusBody(e));
  }

  private send(res: ServerResponse, code: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  private async body(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    if (text === '') return {};
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new ApiError(400, 'BadRequest', 'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml');
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const discovery = req.method === 'GET' ? discoveryDocument(this.store.types, url.pathname, `127.0.0.1:${this.port}`) : undefined;
    if (discovery !== undefined) return this.send(res, 200, discovery);
    const r = route(this.store, url.pathname);
    if (r === undefined) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    const { resource: t, namespace: ns, name, subresource } = r;
    if (subresource === 'status' && !t.statusSubresource) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    const q = url.searchParams;
    const dryRun = parseDryRun(q);
    switch (req.method) {
      case 'GET': {
        if (name !== undefined) return this.send(res, 200, this.store.get(t, ns, name));
        const labels = parseLabelSelector(q.get('labelSelector') ?? '');
        const fields = parseFieldSelector(q.get('fieldSelector') ?? '');
        const matches = (o: KubeObject): boolean => labels(o.metadata.labels ?? {}) && fields(o);
        if (q.get('watch') === '1' || q.get('watch') === 'true') return this.serveWatch(req, res, t, ns, matches, q);
        const items = this.store.list(t, ns, matches);
        return this.send(res, 200, { apiVersion: apiVersionOf(t), kind: `${t.kind}List`, metadata: { resourceVersion: String(this.store.resourceVersion) }, items });
      }
      case 'POST': {
        if (name !== undefined) throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
        return this.send(res, 201, this.store.create(t, ns, (await this.body(req)) as KubeObject, dryRun));
      }
      case 'PUT': {
        if (name === undefined) throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
        const body = (await this.body(req)) as KubeObject;
        if (body.metadata?.name !== undefined && body.metadata.name !== name) throw new ApiError(400, 'BadRequest', 'the name of the object does not match the name on the URL');
        return this.send(res, 200, this.store.update(t, ns, name, body, subresource, dryRun));
      }
      case 'PATCH': {
        if (name === undefined) throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
        const type = req.headers['content-type'] ?? '';
        if (!type.startsWith('application/merge-patch+json') && !type.startsWith('application/strategic-merge-patch+json')) {
          throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/merge-patch+json, application/strategic-merge-patch+json`);
        }
        return this.send(res, 200, this.store.patch(t, ns, name, await this.body(req), subresource, dryRun));
      }
      case 'DELETE': {
        if (name === undefined) throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
        const o = this.store.delete(t, ns, name, dryRun);
        return this.send(res, 200, o.metadata.deletionTimestamp !== undefined && this.store.tryGet(t, ns, name) !== undefined ? o : { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, group: t.group, kind: t.plural, uid: o.metadata.uid } });
      }
      default:
        throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    }
  }

  private serveWatch(req: IncomingMessage, res: ServerResponse, t: ResourceType, ns: string | undefined, matches: (o: KubeObject) => boolean, q: URLSearchParams): void {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    this.openStreams.add(res);
    const send = (type: string, object: unknown): void => {
      res.write(`${JSON.stringify({ type, object })}\n`);
    };
    const { gone, close } = this.store.watch({ resource: t, namespace: ns, matches, send }, q.get('resourceVersion') ?? undefined);
    if (gone) {
      send('ERROR', statusBody(new ApiError(410, 'Expired', `too old resource version: ${q.get('resourceVersion')} (${this.store.resourceVersion})`)));
      this.openStreams.delete(res);
      res.end();
      return;
    }
    const timers: NodeJS.Timeout[] = [];
    if (q.get('allowWatchBookmarks') === 'true' || q.get('allowWatchBookmarks') === '1') {
      timers.push(setInterval(() => send('BOOKMARK', { apiVersion: apiVersionOf(t), kind: t.kind, metadata: { resourceVersion: String(this.store.resourceVersion) } }), BOOKMARK_INTERVAL_MS));
    }
    const timeoutSeconds = Number(q.get('timeoutSeconds') ?? '0');
    const finish = (): void => {
      timers.forEach((x) => clearInterval(x));
      close();
      this.openStreams.delete(res);
      if (!res.writableEnded) res.end();
    };
    if (timeoutSeconds > 0) timers.push(setTimeout(finish, timeoutSeconds * 1000));
    req.on('close', finish);
  }
}
