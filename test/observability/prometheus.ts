/**
 * A real Prometheus (Debian package `prometheus`) for tests: scrapes the given jobs every second on 127.0.0.1,
 * loads rule files, listens on a free port, keeps its TSDB in a temp dir; `query` runs PromQL through the HTTP API
 * and `rules` lists the rule groups with their health, as Grafana and Alertmanager see them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, type ProcessGroup } from '../harness/processes.js';
import { waitFor } from '../harness/wait.js';

export const PROMETHEUS_BIN = '/usr/bin/prometheus';

export interface QueryResult {
  readonly status: 'success' | 'error';
  readonly error?: string;
  readonly data?: { resultType: string; result: Array<{ metric: Record<string, string>; value?: [number, string] }> };
}

export interface RuleState {
  readonly name: string;
  readonly query: string;
  readonly type: 'alerting' | 'recording';
  readonly health: string;
  readonly lastError?: string;
  readonly state?: string;
  readonly alerts?: Array<{ labels: Record<string, string>; state: string }>;
}

export class Prometheus {
  private constructor(private readonly child: ChildProcess, readonly url: string, private output: () => string) {}

  static async start(group: ProcessGroup, jobs: Readonly<Record<string, readonly string[]>>, ruleFiles: readonly string[]): Promise<Prometheus> {
    const dir = await group.tempDir('prometheus-');
    const config = [
      'global:', '  scrape_interval: 1s', '  evaluation_interval: 1s', 'rule_files:',
      ...ruleFiles.map((f) => `  - ${JSON.stringify(f)}`),
      'scrape_configs:',
      ...Object.entries(jobs).flatMap(([job, targets]) => [
        `  - job_name: ${JSON.stringify(job)}`, '    static_configs:', `      - targets: ${JSON.stringify(targets)}`,
      ]),
    ].join('\n');
    await writeFile(join(dir, 'prometheus.yml'), `${config}\n`);
    const port = await freePort();
    const child = spawn(PROMETHEUS_BIN, [
      `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-20_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const prometheus = new Prometheus(child, `http://127.0.0.1:${port}`, () => output);
    await waitFor(async () => (await fetch(`${prometheus.url}/-/ready`)).ok, 20_000, `prometheus ready\n${output}`);
    return prometheus;
  }

  async query(expr: string): Promise<QueryResult> {
    const res = await fetch(`${this.url}/api/v1/query`, { method: 'POST', body: new URLSearchParams({ query: expr }) });
    return (await res.json()) as QueryResult;
  }

  async rules(): Promise<RuleState[]> {
    const res = await fetch(`${this.url}/api/v1/rules`);
    const body = (await res.json()) as { data: { groups: Array<{ rules: RuleState[] }> } };
    return body.data.groups.flatMap((g) => g.rules);
  }

  outputTail(): string {
    return this.output();
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    await exited;
  }
}
