// Goal: the `corvid` command behaves as etcd's does at its edges: --help and --version print and
// exit 0, a bad flag exits 2 with Go's flag text, and a running member announces its client
// address, serves /health, and stops cleanly (exit 0) on SIGTERM and SIGINT.
// Method: run the built command (packages/node/dist/cli/main.js, built by `npm test`) as a real
// process on 127.0.0.1 with port 0 and a fresh data dir.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MAIN = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');

function runSync(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Starts a member on port 0; resolves once it logs `readyMsg`, with the address that line names
 * (by default the client address, from "serving client traffic").
 */
function startMember(dataDir: string, extraArgs: string[] = [], readyMsg = 'serving client traffic'): Promise<{ child: ChildProcess; address: string; exited: Promise<number | null> }> {
  // Port 0 for peers too: the default peer URL (2380, as etcd's) would clash between concurrent tests.
  const args = [MAIN, '--data-dir', dataDir, '--listen-client-urls', 'http://127.0.0.1:0', '--advertise-client-urls', 'http://127.0.0.1:2379', '--listen-peer-urls', 'http://127.0.0.1:0', ...extraArgs];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`member did not start within 20s:\n${stderr}`)), 20_000);
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      for (const line of stderr.split('\n')) {
        if (!line.includes(`"${readyMsg}"`)) continue;
        clearTimeout(timer);
        resolve({ child, address: (JSON.parse(line) as { address: string }).address, exited });
        return;
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`member exited with ${code} before serving:\n${stderr}`));
    });
  });
}

describe('corvid command', () => {
  beforeAll(() => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
  });

  it('prints help and version', () => {
    const help = runSync(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--listen-client-urls');
    expect(help.stdout).toContain('ETCD_');
    const version = runSync(['--version']);
    expect(version.status).toBe(0);
    expect(version.stdout).toMatch(/^corvid Version: \d+\.\d+\.\d+\netcd API Version: 3\.4\.\d+\n/);
  });

  it('refuses an unknown flag and a bad value with exit code 2, as etcd', () => {
    const unknown = runSync(['--no-such-flag']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('flag provided but not defined: -no-such-flag');
    const bad = runSync(['--max-txn-ops', 'x']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('invalid value "x" for flag -max-txn-ops: parse error');
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('serves /health and stops cleanly on %s', async (signal) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'corvid-cli-'));
    try {
      const member = await startMember(dataDir);
      const res = await fetch(`http://${member.address}/health`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual(expect.objectContaining({ health: 'true' }));
      member.child.kill(signal);
      expect(await member.exited).toBe(0);
      // The data survives the stop: a second start on the same dir succeeds.
      const again = await startMember(dataDir);
      again.child.kill('SIGTERM');
      expect(await again.exited).toBe(0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('serves only /metrics and /health on --listen-metrics-urls, as etcd', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'corvid-cli-'));
    try {
      const member = await startMember(dataDir, ['--listen-metrics-urls', 'http://127.0.0.1:0'], 'serving metrics');
      const base = `http://${member.address}`;
      const metrics = await fetch(`${base}/metrics`);
      expect(metrics.status).toBe(200);
      const text = await metrics.text();
      expect(text).toMatch(/^etcd_server_has_leader 1$/m);
      expect(text).toMatch(/^etcd_server_quota_backend_bytes 2147483648$/m);
      expect(await (await fetch(`${base}/health`)).json()).toEqual({ health: 'true' });
      expect((await fetch(`${base}/health`, { method: 'POST' })).status).toBe(405);
      for (const path of ['/version', '/v3/kv/range', '/nope']) expect((await fetch(`${base}${path}`, { method: 'POST' })).status).toBe(404);
      member.child.kill('SIGTERM');
      expect(await member.exited).toBe(0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
