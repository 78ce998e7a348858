/**
 * A test kubelet (and volume provisioner) for the Kubernetes API test server: it turns the Pods it finds in
 * the store into real processes on this machine and reports their status back, so the operator's
 * member-facing steps run against real members.
 *
 * How a pod is translated:
 * - network: every pod gets its own loopback address (127.A.B.n, A.B random per kubelet), as a pod gets its
 *   own IP; `0.0.0.0` in its arguments becomes that address, so members keep their real ports (2379/2380)
 *   without colliding. `addressing` gives the operator the same pod → address mapping (what cluster DNS does
 *   for `<pod>.<cluster>-peer.<ns>.svc` on a real cluster);
 * - volumes: a PersistentVolumeClaim is a directory under the kubelet's root (`claimDir`), bound as soon as it
 *   is created and removed when it is deleted; an emptyDir is a per-pod directory; a Secret volume is a per-pod
 *   directory holding one file (mode 0600) per key of the Secret's data, written when the pod starts (a pod
 *   whose Secret does not exist stays Pending, as a real kubelet's FailedMount); each volumeMount's path in the
 *   arguments is rewritten to the directory;
 * - commands: the first word goes through `binaries` (`etcd` → /usr/bin/etcd, `etcdctl` → /usr/bin/etcdctl,
 *   `corvid` → node + the built CLI); env values are passed through;
 * - lifecycle: init containers run to completion in order, then the main container; restartPolicy Always
 *   restarts an exited container (restartCount); a tcpSocket or httpGet readinessProbe drives the Ready
 *   condition (with lastTransitionTime); deleting the pod kills its processes.
 * `killForGood` is the node failing under a pod: the process is SIGKILLed, never restarted, the pod goes to
 * phase Failed with Ready False. `crash` is a SIGKILL the kubelet restarts from.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { KubeObject, KubeStore, StoreEvent } from '../kube-api-server.js';

interface Container {
  name: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string }[];
  volumeMounts?: { name: string; mountPath: string }[];
  readinessProbe?: { tcpSocket?: { port: number }; httpGet?: { port: number; path?: string } };
}

interface PodSpec {
  restartPolicy?: string;
  initContainers?: Container[];
  containers: Container[];
  volumes?: { name: string; persistentVolumeClaim?: { claimName: string }; emptyDir?: Record<string, unknown>; secret?: { secretName: string } }[];
}

interface RunningPod {
  readonly key: string;
  readonly ns: string;
  readonly name: string;
  readonly uid: string;
  readonly ip: string;
  child: ChildProcess | undefined;
  restarts: number;
  forGood: boolean;
  deleted: boolean;
  ready: boolean;
  probeTimer: NodeJS.Timeout | undefined;
  log: WriteStream;
}

const PROBE_INTERVAL_MS = 150;
const RESTART_BACKOFF_MS = 300;
const KILL_GRACE_MS = 3_000;

export interface KubeletOptions {
  readonly store: KubeStore;
  readonly root: string;
  /** First command word → argv prefix. */
  readonly binaries: Readonly<Record<string, readonly string[]>>;
}

const isoNow = (): string => new Date().toISOString().replace(/\.\d+Z$/u, 'Z');

export class TestKubelet {
  private readonly pods = new Map<string, RunningPod>();
  private readonly ips = new Map<string, string>();
  private readonly subnet = `127.${2 + Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
  private unsubscribe: (() => void) | undefined;
  private readonly exits = new Set<Promise<void>>();
  /** Every process started and not yet exited, whatever pod it belonged to: stop() kills them all. */
  private readonly children = new Set<ChildProcess>();
  private stopped = false;

  constructor(private readonly options: KubeletOptions) {}

  /** The pod's own loopback address, allocated on first use and kept for the pod name. */
  ipFor(ns: string, podName: string): string {
    const key = `${ns}/${podName}`;
    let ip = this.ips.get(key);
    if (ip === undefined) {
      ip = `${this.subnet}.${2 + this.ips.size}`;
      this.ips.set(key, ip);
    }
    return ip;
  }

  /** What the operator is given instead of cluster DNS. */
  readonly addressing = { host: (ns: string, _cluster: string, podName: string): string => this.ipFor(ns, podName) };

  claimDir(ns: string, claim: string): string {
    return join(this.options.root, 'claims', ns, claim);
  }

  start(): void {
    this.unsubscribe = this.options.store.subscribe((e) => setImmediate(() => this.onEvent(e)));
    for (const pvc of this.options.store.list(this.options.store.type('PersistentVolumeClaim'), undefined)) this.bindClaim(pvc);
    for (const pod of this.options.store.list(this.options.store.type('Pod'), undefined)) this.admit(pod);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    for (const p of this.pods.values()) {
      p.deleted = true; // no restarts after stop
      this.kill(p, 'SIGKILL');
    }
    for (const child of this.children) child.kill('SIGKILL');
    await Promise.all([...this.exits]);
  }

  /** The running process of a pod, if any. */
  pid(ns: string, podName: string): number | undefined {
    return this.pods.get(`${ns}/${podName}`)?.child?.pid;
  }

  /** The node under the pod dies: SIGKILL, never restarted, pod Failed. */
  killForGood(ns: string, podName: string): void {
    const p = this.pods.get(`${ns}/${podName}`);
    if (p === undefined) throw new Error(`no pod ${ns}/${podName}`);
    p.forGood = true;
    this.kill(p, 'SIGKILL');
    this.setStatus(p, (s) => {
      s['phase'] = 'Failed';
      s['reason'] = 'NodeLost';
      s['message'] = 'test kubelet: node lost';
      this.setReady(s, false);
    });
  }

  /** SIGKILL; restartPolicy Always brings it back. */
  crash(ns: string, podName: string): void {
    const p = this.pods.get(`${ns}/${podName}`);
    if (p !== undefined) this.kill(p, 'SIGKILL');
  }

  private onEvent(e: StoreEvent): void {
    if (e.resource.kind === 'PersistentVolumeClaim') {
      if (e.type === 'ADDED') this.bindClaim(e.object);
      // The pod using it may still be writing into it for a moment (SIGTERM grace): retry on ENOTEMPTY/EBUSY.
      if (e.type === 'DELETED') rmSync(this.claimDir(e.object.metadata.namespace ?? '', e.object.metadata.name ?? ''), { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
      // A pod waiting for this claim may now start.
      if (e.type === 'ADDED') for (const pod of this.options.store.list(this.options.store.type('Pod'), e.object.metadata.namespace)) this.admit(pod);
    }
    // A pod waiting for this Secret may now start.
    if (e.resource.kind === 'Secret' && e.type === 'ADDED') for (const pod of this.options.store.list(this.options.store.type('Pod'), e.object.metadata.namespace)) this.admit(pod);
    if (e.resource.kind !== 'Pod') return;
    const key = `${e.object.metadata.namespace}/${e.object.metadata.name}`;
    if (e.type === 'DELETED') {
      const p = this.pods.get(key);
      if (p !== undefined && p.uid === e.object.metadata.uid) {
        p.deleted = true;
        this.kill(p, 'SIGTERM');
        this.pods.delete(key);
      }
      return;
    }
    this.admit(e.object);
  }

  private bindClaim(pvc: KubeObject): void {
    const ns = pvc.metadata.namespace ?? '';
    mkdirSync(this.claimDir(ns, pvc.metadata.name ?? ''), { recursive: true });
    const t = this.options.store.type('PersistentVolumeClaim');
    const current = this.options.store.tryGet(t, ns, pvc.metadata.name ?? '');
    if (current === undefined || (current.status as { phase?: string } | undefined)?.phase === 'Bound') return;
    this.options.store.update(t, ns, current.metadata.name ?? '', { ...current, status: { phase: 'Bound', accessModes: ['ReadWriteOnce'] } }, 'status');
  }

  private admit(pod: KubeObject): void {
    if (this.stopped) return;
    const ns = pod.metadata.namespace ?? '';
    const name = pod.metadata.name ?? '';
    const key = `${ns}/${name}`;
    if (this.pods.has(key) || pod.metadata.deletionTimestamp !== undefined) return;
    const spec = pod.spec as PodSpec;
    const claims = (spec.volumes ?? []).flatMap((v) => (v.persistentVolumeClaim === undefined ? [] : [v.persistentVolumeClaim.claimName]));
    const t = this.options.store.type('PersistentVolumeClaim');
    if (claims.some((c) => this.options.store.tryGet(t, ns, c) === undefined)) return; // Pending until its claims exist
    const secrets = (spec.volumes ?? []).flatMap((v) => (v.secret === undefined ? [] : [v.secret.secretName]));
    if (secrets.some((name) => this.options.store.tryGet(this.options.store.type('Secret'), ns, name) === undefined)) return; // and its Secrets
    mkdirSync(join(this.options.root, 'logs'), { recursive: true });
    const p: RunningPod = {
      key,
      ns,
      name,
      uid: pod.metadata.uid ?? '',
      ip: this.ipFor(ns, name),
      child: undefined,
      restarts: 0,
      forGood: false,
      deleted: false,
      ready: false,
      probeTimer: undefined,
      log: createWriteStream(join(this.options.root, 'logs', `${ns}-${name}-${pod.metadata.uid}.log`), { flags: 'a' }),
    };
    this.pods.set(key, p);
    this.setStatus(p, (s) => {
      s['phase'] = 'Pending';
      s['podIP'] = p.ip;
      s['podIPs'] = [{ ip: p.ip }];
      s['hostIP'] = '127.0.0.1';
      s['startTime'] = isoNow();
      s['conditions'] = [{ type: 'PodScheduled', status: 'True', lastTransitionTime: isoNow() }];
      this.setReady(s, false);
    });
    this.run(p, spec).catch((err: unknown) => p.log.write(`--- kubelet: ${String(err)}\n`));
  }

  private volumeDirs(p: RunningPod, spec: PodSpec): Map<string, string> {
    const dirs = new Map<string, string>();
    for (const v of spec.volumes ?? []) {
      if (v.persistentVolumeClaim !== undefined) dirs.set(v.name, this.claimDir(p.ns, v.persistentVolumeClaim.claimName));
      else if (v.secret !== undefined) dirs.set(v.name, this.secretDir(p, v.name, v.secret.secretName));
      else {
        const dir = join(this.options.root, 'pods', p.uid, v.name);
        mkdirSync(dir, { recursive: true });
        dirs.set(v.name, dir);
      }
    }
    return dirs;
  }

  /** The Secret's data as files, one per key, decoded from base64 (what a secret volume shows a container). */
  private secretDir(p: RunningPod, volume: string, secretName: string): string {
    const secret = this.options.store.tryGet(this.options.store.type('Secret'), p.ns, secretName);
    if (secret === undefined) throw new Error(`test kubelet: secret ${p.ns}/${secretName} not found`);
    const dir = join(this.options.root, 'pods', p.uid, volume);
    mkdirSync(dir, { recursive: true });
    const data = (secret as { data?: Record<string, string> }).data ?? {};
    for (const [file, value] of Object.entries(data)) writeFileSync(join(dir, file), Buffer.from(value, 'base64'), { mode: 0o600 });
    return dir;
  }

  private argv(p: RunningPod, c: Container, dirs: Map<string, string>): string[] {
    const mounts = [...(c.volumeMounts ?? [])].sort((a, b) => b.mountPath.length - a.mountPath.length);
    const translate = (arg: string): string => {
      let out = arg.split('0.0.0.0').join(p.ip);
      for (const m of mounts) {
        const dir = dirs.get(m.name);
        if (dir !== undefined) out = out.split(m.mountPath).join(dir);
      }
      return out;
    };
    const words = [...(c.command ?? []), ...(c.args ?? [])].map(translate);
    const [first, ...rest] = words;
    const prefix = this.options.binaries[first ?? ''];
    if (prefix === undefined) throw new Error(`test kubelet: no binary for "${first}"`);
    return [...prefix, ...rest];
  }

  private spawn(p: RunningPod, c: Container, dirs: Map<string, string>): ChildProcess {
    const [bin, ...args] = this.argv(p, c, dirs) as [string, ...string[]];
    const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/tmp' };
    for (const e of c.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
    p.log.write(`--- ${isoNow()} ${c.name}: ${bin} ${args.join(' ')}\n`);
    if (this.stopped) throw new Error('test kubelet stopped');
    const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    child.stdout?.pipe(p.log, { end: false });
    child.stderr?.pipe(p.log, { end: false });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.exits.add(exited);
    void exited.then(() => this.exits.delete(exited));
    return child;
  }

  private async run(p: RunningPod, spec: PodSpec): Promise<void> {
    const dirs = this.volumeDirs(p, spec);
    for (const init of spec.initContainers ?? []) {
      for (;;) {
        if (p.deleted || p.forGood) return;
        const child = this.spawn(p, init, dirs);
        p.child = child;
        const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
        p.child = undefined;
        if (code === 0) break;
        p.log.write(`--- init container ${init.name} exited ${code}; retrying\n`);
        await new Promise((resolve) => setTimeout(resolve, RESTART_BACKOFF_MS * 3));
      }
    }
    const main = spec.containers[0] as Container;
    while (!p.deleted && !p.forGood) {
      const child = this.spawn(p, main, dirs);
      p.child = child;
      this.setStatus(p, (s) => {
        s['phase'] = 'Running';
        s['containerStatuses'] = [{ name: main.name, ready: false, restartCount: p.restarts, state: { running: { startedAt: isoNow() } } }];
      });
      this.startProbe(p, main);
      const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      p.child = undefined;
      clearInterval(p.probeTimer);
      if (p.deleted) return;
      p.log.write(`--- ${main.name} exited ${code}\n`);
      if (p.forGood) return;
      p.ready = false;
      p.restarts += 1;
      this.setStatus(p, (s) => {
        this.setReady(s, false);
        s['containerStatuses'] = [{ name: main.name, ready: false, restartCount: p.restarts, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: code ?? 137 } } }];
      });
      if (spec.restartPolicy === 'Never') return;
      await new Promise((resolve) => setTimeout(resolve, RESTART_BACKOFF_MS));
    }
  }

  private startProbe(p: RunningPod, c: Container): void {
    const port = c.readinessProbe?.tcpSocket?.port ?? c.readinessProbe?.httpGet?.port;
    const probe = (): void => {
      if (port === undefined) return this.markReady(p, true);
      const socket = connect({ host: p.ip, port });
      socket.setTimeout(1_000);
      socket.once('connect', () => {
        socket.destroy();
        this.markReady(p, true);
      });
      const fail = (): void => {
        socket.destroy();
        this.markReady(p, false);
      };
      socket.once('error', fail);
      socket.once('timeout', fail);
    };
    p.probeTimer = setInterval(probe, PROBE_INTERVAL_MS);
    probe();
  }

  private markReady(p: RunningPod, ready: boolean): void {
    if (p.deleted || p.forGood || p.child === undefined || p.ready === ready) return;
    p.ready = ready;
    this.setStatus(p, (s) => {
      this.setReady(s, ready);
      const cs = (s['containerStatuses'] as { ready: boolean }[] | undefined)?.[0];
      if (cs !== undefined) cs.ready = ready;
    });
  }

  private setReady(s: Record<string, unknown>, ready: boolean): void {
    const conditions = ((s['conditions'] as { type: string; status: string; lastTransitionTime: string }[] | undefined) ?? []).filter((c) => c.type !== 'Ready' && c.type !== 'ContainersReady');
    const old = (s['conditions'] as { type: string; status: string; lastTransitionTime: string }[] | undefined)?.find((c) => c.type === 'Ready');
    const status = ready ? 'True' : 'False';
    const lastTransitionTime = old !== undefined && old.status === status ? old.lastTransitionTime : isoNow();
    s['conditions'] = [...conditions, { type: 'Ready', status, lastTransitionTime }, { type: 'ContainersReady', status, lastTransitionTime }];
  }

  private setStatus(p: RunningPod, change: (s: Record<string, unknown>) => void): void {
    const t = this.options.store.type('Pod');
    const current = this.options.store.tryGet(t, p.ns, p.name);
    if (current === undefined || current.metadata.uid !== p.uid) return;
    const status = structuredClone((current.status as Record<string, unknown> | undefined) ?? {});
    change(status);
    this.options.store.update(t, p.ns, p.name, { ...current, status }, 'status');
  }

  private kill(p: RunningPod, signal: NodeJS.Signals): void {
    clearInterval(p.probeTimer);
    const child = p.child;
    if (child === undefined || child.exitCode !== null) return;
    child.kill(signal);
    if (signal !== 'SIGKILL') setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), KILL_GRACE_MS).unref();
  }
}
