/**
 * Goal: the alert rules in deploy/prometheus are valid for a real Prometheus, every alert has promtool unit tests
 * that fire it on synthetic series and keep it silent on healthy ones, and every alert has a runbook in
 * docs/alerts.md.
 * Method: run Debian's `promtool` (package `prometheus`): `check config` on the scrape configuration (which
 * loads the rule files), `check rules`, `test rules`; then read the rule and test files to prove each alert
 * is covered both ways, and the runbook for its anchor. The rules are also evaluated against a live cluster in
 * cluster-metrics.test.ts.
 */
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import yaml from 'js-yaml';
import { REPO_ROOT } from '../harness/processes.js';

const run = promisify(execFile);
const DIR = join(REPO_ROOT, 'deploy/prometheus');
const RULE_FILES = readdirSync(join(DIR, 'rules')).filter((f) => f.endsWith('.yml')).map((f) => join(DIR, 'rules', f));
const TEST_FILES = readdirSync(join(DIR, 'tests')).filter((f) => f.endsWith('.yml')).map((f) => join(DIR, 'tests', f));

interface RuleFile { groups: Array<{ rules: Array<{ alert?: string; expr: string; annotations?: Record<string, string> }> }> }
interface TestFile { tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }> }> }

const alerts = RULE_FILES.flatMap((f) => (yaml.load(readFileSync(f, 'utf8')) as RuleFile).groups.flatMap((g) => g.rules)).filter((r) => r.alert !== undefined);
const cases = TEST_FILES.flatMap((f) => (yaml.load(readFileSync(f, 'utf8')) as TestFile).tests.flatMap((t) => t.alert_rule_test ?? []));

test('promtool: the scrape configuration and its rule files are valid', async () => {
  const config = await run('promtool', ['check', 'config', join(DIR, 'prometheus.yml')], { cwd: DIR });
  expect(config.stdout + config.stderr).toMatch(/SUCCESS: \S*prometheus\.yml is valid prometheus config file syntax/);
  expect(config.stdout + config.stderr).toMatch(/SUCCESS: 2 rule files found/);
  const rules = await run('promtool', ['check', 'rules', ...RULE_FILES]);
  expect(rules.stdout).toMatch(/SUCCESS: 15 rules found/);
  expect(rules.stdout).toMatch(/SUCCESS: 6 rules found/);
});

test('promtool test rules: every unit test passes', async () => {
  const { stdout } = await run('promtool', ['test', 'rules', ...TEST_FILES], { cwd: join(DIR, 'tests') });
  expect(stdout.match(/SUCCESS/g)).toHaveLength(TEST_FILES.length);
  expect(stdout).not.toContain('FAILED');
});

test('every alert is unit-tested firing and silent, and has a runbook', () => {
  const runbooks = readFileSync(join(REPO_ROOT, 'docs/alerts.md'), 'utf8');
  const names = [...new Set(alerts.map((a) => a.alert as string))];
  expect(names.length).toBeGreaterThanOrEqual(19);
  for (const name of names) {
    const mine = cases.filter((c) => c.alertname === name);
    expect({ name, fires: mine.some((c) => (c.exp_alerts ?? []).length > 0) }).toEqual({ name, fires: true });
    expect({ name, silent: mine.some((c) => (c.exp_alerts ?? []).length === 0) }).toEqual({ name, silent: true });
    const anchor = name.toLowerCase();
    expect(alerts.filter((a) => a.alert === name).every((a) => a.annotations?.['runbook_url'] === `docs/alerts.md#${anchor}`)).toBe(true);
    expect({ name, runbook: runbooks.includes(`## ${name}\n`) }).toEqual({ name, runbook: true });
  }
});
