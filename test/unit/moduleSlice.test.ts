import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { sliceModule, sliceRewardModules, slicePosition } from '../../src/discovery/core/moduleSlice';
import { loadPythonParser } from '../../src/discovery/core/parser';
import { repoRoot } from './helpers';

const parser = () => loadPythonParser(path.join(repoRoot, 'dist'));
const ranLines = (source: string, names: string[]) => parser().then((p) => sliceModule(p, source, names).ran.map((s) => s.line));

test("the origin's script: the rewards, their helpers, constants and imports run; model, marker and trainer do not", async () => {
  const source = fs.readFileSync(path.join(repoRoot, 'test/fixtures/origin/train_seed.py'), 'utf8');
  const slice = sliceModule(await parser(), source, ['emoji_reward', 'length_reward']);
  const ran = slice.ran.map((s) => s.text);
  assert.deepEqual(ran, [
    'import re',
    'TARGET_LENGTH = 30',
    'EMOJI = re.compile("[\\U0001F300-\\U0001FAFF\\u2600-\\u27BF]")',
    'def count_emojis(text):',
    'def emoji_reward(completions, **kwargs):',
    'def length_reward(completions, **kwargs):',
  ]);
  const skipped = slice.skipped.map((s) => s.text);
  for (const text of [
    'model = AutoModelForCausalLM.from_pretrained(',
    'Path("MARKER_SCRIPT_RAN")',
    'trainer = GRPOTrainer(',
    'trainer.train()',
    'import torch',
  ]) {
    assert.ok(
      skipped.some((s) => s.startsWith(text)),
      `${text} is not run`,
    );
  }
  assert.equal(slice.whole, false);
  const lines = slice.source.split('\n');
  assert.equal(lines.length, source.split('\n').length, 'line numbers are kept');
  assert.equal(lines[source.split('\n').indexOf('trainer.train()')], 'pass');
  assert.ok(!slice.source.includes('MARKER_SCRIPT_RAN') && !slice.source.includes('GRPOTrainer('));
  assert.ok(slice.source.includes('def emoji_reward(completions, **kwargs):\n    """Up to 4 emojis: 1 point each."""'));
});

test('a local that shares a global name does not pull the global in; a global read in a nested function does', async () => {
  const source = [
    'model = load_model()', // 1
    'tokenizer = load_tokenizer()', // 2
    'def reward(completions, model=None, **kw):', // 3
    '    text = [c for c in completions]', // 4
    '    def inner(x):', // 5
    '        return len(tokenizer(x))', // 6
    '    return [inner(t) for t in text]', // 7
  ].join('\n');
  assert.deepEqual(await ranLines(source, ['reward']), [2, 3]);
});

test('sys.path and os.environ changes and __future__ imports always run; a __main__ block never does', async () => {
  const source = [
    'from __future__ import annotations', // 1
    'import os, sys', // 2
    'sys.path.insert(0, "lib")', // 3
    'os.environ["TOKENIZERS_PARALLELISM"] = "false"', // 4
    'print("side effect")', // 5
    'def reward(completions, **kw):', // 6
    '    return [0.0] * len(completions)', // 7
    'if __name__ == "__main__":', // 8
    '    reward = None', // 9
  ].join('\n');
  const slice = sliceModule(await parser(), source, ['reward']);
  assert.deepEqual(
    slice.ran.map((s) => s.line),
    [1, 2, 3, 4, 6],
  );
  assert.equal(slice.whole, false, 'the print is an effect that an import would have had');
});

test('method calls and item assignments bind their base; try/except imports, with blocks, tuples and classes are followed', async () => {
  const source = [
    'WORDS = set()', // 1
    'WORDS.update(["a", "b"])', // 2
    'CONFIG = {}', // 3
    'CONFIG["k"] = 1', // 4
    'try:', // 5
    '    import emoji', // 6
    'except ImportError:', // 7
    '    emoji = None', // 8
    'with open("x") as fh:', // 9
    '    LIMIT, OTHER = fh.read(), 2', // 10
    'class Scorer(Base):', // 11
    '    def __call__(self, completions, **kw):', // 12
    '        return [float(w in WORDS) + CONFIG["k"] + LIMIT for w in completions if emoji]', // 13
    'scorer = Scorer()', // 14
    'trainer = GRPOTrainer(reward_funcs=[scorer])', // 15
    'trainer.train()', // 16
  ].join('\n');
  assert.deepEqual(await ranLines(source, ['scorer']), [1, 2, 3, 4, 5, 9, 11, 14]);
});

test('a reward module whose skipped statements are only unused defs and a __main__ block is imported as it is', async () => {
  const source =
    'import re\n"""doc"""\ndef helper():\n    pass\ndef reward(completions, **kw):\n    return [float(bool(re.match("a", c))) for c in completions]\nif __name__ == "__main__":\n    main()\n';
  const slice = sliceModule(await parser(), source, ['reward']);
  assert.equal(slice.whole, true);
  assert.deepEqual(
    slice.skipped.map((s) => s.line),
    [3, 7],
  );
});

test('a notebook slice is never imported whole and maps its lines back to cells', async () => {
  const notebook = JSON.stringify({
    cells: [
      { cell_type: 'code', source: ['!pip install trl==0.22.2\n', 'import re'] },
      { cell_type: 'markdown', source: ['# rewards'] },
      {
        cell_type: 'code',
        source: ['def reward(completions, **kw):\n', '    return [float(bool(re.search("x", c))) for c in completions]'],
      },
      { cell_type: 'code', source: ['trainer.train()'] },
    ],
  });
  const slices = sliceRewardModules(await parser(), [{ file: '/n.ipynb', attr: 'reward' }], () => notebook);
  const slice = slices['/n.ipynb'];
  assert.equal(slice.whole, false);
  assert.deepEqual(
    slice.ran.map((s) => slicePosition(slice, s.line)),
    [
      { cell: 0, line: 2 },
      { cell: 2, line: 1 },
    ],
  );
  assert.deepEqual(slicePosition(slice, slice.skipped[0].line), { cell: 3, line: 1 });
});
