import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { cellPosition, notebookModule } from '../../src/discovery/core/notebook';
import type { DiscoveryReport } from '../../src/discovery/core/rewardIndex';
import { makeIndex, repoRoot, workspace } from './helpers';

/** Unsloth's GRPO notebook, in short: a capture cell that pins TRL, a reward in one cell, the trainer in a later one. */
const NOTEBOOK = JSON.stringify({
  cells: [
    { cell_type: 'markdown', source: ['# GRPO with Unsloth\n'] },
    { cell_type: 'code', source: ['%%capture\n', '!pip install unsloth trl==0.22.2\n'] },
    {
      cell_type: 'code',
      source: [
        'import re\n',
        '!nvidia-smi\n',
        'def correctness_reward_func(prompts, completions, answer):\n',
        '    return [2.0 if c == a else 0.0 for c, a in zip(completions, answer)]\n',
      ],
    },
    { cell_type: 'markdown', source: 'Train:' },
    {
      cell_type: 'code',
      source: 'from trl import GRPOTrainer\ntrainer = GRPOTrainer(model=model, reward_funcs=[correctness_reward_func, strict_format])\n',
    },
    { cell_type: 'code', source: ['def strict_format(completions, **kwargs):\n', '    return [1.0 for c in completions]\n'] },
  ],
  metadata: {},
  nbformat: 4,
  nbformat_minor: 5,
});

test('a notebook is its code cells in order, magics and shell lines blanked, positions mapped back to cells', () => {
  const module = notebookModule(NOTEBOOK);
  assert.ok(!('error' in module));
  const lines = module.source.split('\n');
  assert.equal(lines[0], '', 'the %%capture cell is blanked whole');
  const def = lines.findIndex((l) => l.startsWith('def correctness_reward_func'));
  assert.deepEqual(cellPosition(module.cells, def), { cell: 2, line: 2 });
  assert.equal(lines[def - 1], '', '!nvidia-smi is blanked');
  assert.match((notebookModule('{"cells": [') as { error: string }).error, /not valid notebook JSON/);
  assert.match((notebookModule('{"nbformat": 4}') as { error: string }).error, /no "cells" list/);
});

test('check reads notebooks: rewards wired across cells, cell and line in the JSON, the pip pin as the TRL version, a broken notebook named', () => {
  const dir = workspace({ 'grpo.ipynb': NOTEBOOK, 'broken.ipynb': '{"cells": [', 'other.py': 'x = 1\n' });
  const result = spawnSync(process.execPath, [path.join(repoRoot, 'dist', 'cli.js'), 'check', '--json', '.'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, GRPO_STUDIO_PYTHON: '' },
  });
  assert.equal(result.status, 1);
  const json = JSON.parse(result.stdout);
  assert.deepEqual(json.trl, { version: '0.22.2', source: 'pinned in grpo.ipynb' });
  const [correctness, strict] = json.functions;
  assert.deepEqual(
    { name: correctness.name, file: correctness.file, cell: correctness.cell, line: correctness.line },
    { name: 'correctness_reward_func', file: 'grpo.ipynb', cell: 2, line: 3 },
  );
  assert.deepEqual(
    correctness.problems.map((p: { code: string; cell: number; line: number }) => [p.code, p.cell, p.line]),
    [
      ['GRPO101', 2, 3],
      ['GRPO121', 2, 3],
    ],
  );
  assert.match(correctness.problems[0].message, /also passes completion_ids=, trainer_state=;.*\[TRL 0\.22\.2: pinned in grpo\.ipynb\]/);
  assert.deepEqual([strict.name, strict.cell, strict.line, strict.problems], ['strict_format', 5, 1, []]);
  assert.match(result.stderr, /skipped broken\.ipynb: not valid notebook JSON/);
});

test('editing one cell re-reads only that cell, and the cells below keep their true positions', async () => {
  const dir = workspace({ 'GRPO.ipynb': NOTEBOOK });
  const file = path.join(dir, 'GRPO.ipynb');
  const edited = JSON.parse(NOTEBOOK);
  // Two lines added at the top of the reward cell move everything below it, the other cells unchanged.
  edited.cells[2].source.unshift('# scored by exact match\n', 'THRESHOLD = 0.5\n');
  const where = (report: DiscoveryReport) =>
    report.rewards.map((r) => [
      r.name,
      r.range.start.line,
      r.references.map((ref) => ref.range.start.line),
      r.problems.map((p) => [p.code, p.range.start.line]),
    ]);
  const fresh = await makeIndex(dir);
  fresh.update(file, JSON.stringify(edited));

  const index = await makeIndex(dir);
  const before = where(index.report());
  index.update(file, JSON.stringify(edited));
  const after = where(index.report());
  assert.deepEqual(after, where(fresh.report()));
  assert.notDeepEqual(after, before, 'the edit moved the rewards');
  // And back: the cached cells move up again.
  index.update(file, NOTEBOOK);
  assert.deepEqual(where(index.report()), before);
});
