// Goal: golden scripts, one per behaviour (test/scenarios/*.txt), in etcd's datadriven style. Method: each
// command runs on a ScriptRunner and its printed Readies and deliveries must equal the recorded output;
// UPDATE_GOLDEN=1 rewrites the files, and the diff is reviewed like code.
import { describe, expect, test } from '@jest/globals';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ScriptRunner, formatScript, parseScript } from '@corvid/raft/testing';

const DIR = join(process.cwd(), 'packages/raft/test/scenarios');
const files = readdirSync(DIR).filter((f) => f.endsWith('.txt')).sort();

describe('golden scenarios', () => {
  test.each(files)('%s', (file) => {
    const path = join(DIR, file);
    const text = readFileSync(path, 'utf8');
    const header = text.split('\n').filter((l, i, all) => all.slice(0, i + 1).every((x) => x.startsWith('#'))).map((l) => `${l}\n`).join('');
    const runner = new ScriptRunner();
    const blocks = parseScript(text).map((b) => ({ ...b, actual: runner.run(b.command) }));
    if (process.env['UPDATE_GOLDEN'] === '1') {
      writeFileSync(path, formatScript(blocks.map((b) => ({ command: b.command, expected: b.actual })), header.length > 0 ? `${header}\n` : ''));
      return;
    }
    for (const b of blocks) expect(`${b.command}\n${b.actual}`).toBe(`${b.command}\n${b.expected}`);
  });
});
