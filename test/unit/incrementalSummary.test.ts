import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { DiscoveryReport } from '../../src/discovery/core/rewardIndex';
import { loadPythonParser, parsePython } from '../../src/discovery/core/parser';
import { summarizeModule, type ModuleSummary } from '../../src/discovery/core/pythonModule';
import { makeIndex, repoRoot, workspace } from './helpers';

/** A module with what summaries hold: rewards at top level and as methods, a factory, duplicates, a trainer call, a dataset. */
const MODULE = `import re
from datasets import Dataset
from trl import GRPOConfig, GRPOTrainer

THRESHOLD = 0.5
rows = [{"prompt": "絵文字で答えて 😀", "answer": "4"}]
dataset = Dataset.from_list(rows)


def emoji_reward(completions, **kwargs):
    rewards = []
    for c in completions:
        rewards.append(min(len(re.findall("😀", c)), 4) / 4)
    return rewards


def length_reward(completions, answer, **kwargs):
    return [1.0 - abs(len(c) - 30) / 30 for c in completions]


class Scorers:
    weight = 2.0

    def strict(self, prompts, completions):
        return [float(c.strip() == "4") for c in completions]

    def lenient(self, completions, **kwargs):
        return [None if not c else 1.0 for c in completions]

    def __call__(self, completions, **kwargs):
        return self.lenient(completions)


def make_reward(target):
    def reward(completions, **kwargs):
        return [float(target in c) for c in completions]

    return reward


def duplicate(completions, **kwargs):
    return [0.0 for _ in completions]


trainer = GRPOTrainer(
    model="Qwen/Qwen2-0.5B-Instruct",
    reward_funcs=[emoji_reward, length_reward, Scorers().strict, make_reward("4")],
    args=GRPOConfig(output_dir="out"),
    train_dataset=dataset,
)
`;

type Edit = (text: string) => string;
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle));
const insertLine =
  (needle: string, line: string): Edit =>
  (text) => {
    const lines = text.split('\n');
    lines.splice(lineOf(text, needle) + 1, 0, line);
    return lines.join('\n');
  };
const deleteLine =
  (needle: string): Edit =>
  (text) =>
    text
      .split('\n')
      .filter((_, i) => i !== lineOf(text, needle))
      .join('\n');
const replace =
  (from: string, to: string): Edit =>
  (text) =>
    text.replace(from, to);

/** Typing as a user does: inside a method, a function, between statements; broken code and back; moves up and down. */
const EDITS: [string, Edit][] = [
  ['a line typed in a method moves what follows', insertLine('def strict(self', '        # 厳密な一致')],
  ['a character typed in a function', replace('abs(len(c) - 30) / 30', 'abs(len(c) - 31) / 31')],
  ['a parameter renamed', replace('def lenient(self, completions', 'def lenient(self, outputs')],
  ['an unclosed bracket', insertLine('def duplicate(', '    broken = [')],
  ['the bracket closed', replace('    broken = [', '    broken = []')],
  ['a function added between statements', insertLine('THRESHOLD = 0.5', '\ndef added(prompts, completions):\n    return [0.5]\n')],
  [
    'a duplicate of a function',
    insertLine('    return [0.0 for _ in completions]', '\n\ndef duplicate(completions, **kwargs):\n    return [0.0 for _ in completions]'),
  ],
  ['an emoji typed before a method', replace('weight = 2.0', 'weight = 2.0  # 🎯')],
  ['a line removed above everything', deleteLine('THRESHOLD = 0.5')],
  ['a triple quote opened in a method', insertLine('def __call__(self', '        """')],
  ['and closed', insertLine('        """', '        docs\n        """')],
  ['the class header changed', replace('class Scorers:', 'class Scorers(object):')],
  ['the trainer wires another reward', replace('Scorers().strict,', 'Scorers().strict, Scorers().lenient,')],
  ['a nested reward edited', replace('float(target in c)', 'float(target in c.strip())')],
  ['back to the first text', () => MODULE],
];

/** A summary as plain, comparable data: Maps and Sets as entries, a function's parent by name. */
function plain(summary: ModuleSummary): unknown {
  return JSON.parse(
    JSON.stringify(summary, (key, value: unknown) => {
      if (key === 'parent') return (value as { name?: string } | undefined)?.name;
      if (value instanceof Map) return [...value.entries()];
      if (value instanceof Set) return [...value].sort();
      return value;
    }),
  );
}

const where = (report: DiscoveryReport) =>
  report.rewards.map((r) => [
    r.name,
    r.range.start.line,
    r.range.start.character,
    r.references.map((ref) => [ref.range.start.line, ref.range.start.character]),
    r.problems.map((p) => [p.code, p.range.start.line, p.range.start.character, p.message]),
  ]);

test('an edited module summarized from its last tree and summaries equals the same text summarized afresh', async () => {
  const parser = await loadPythonParser(path.join(repoRoot, 'dist'));
  const dir = workspace({ 'train.py': MODULE });
  const file = path.join(dir, 'train.py');
  const index = await makeIndex(dir);
  let text = MODULE;
  for (const [what, edit] of EDITS) {
    const next = edit(text);
    assert.notEqual(next, text, `${what}: the edit changed nothing`);
    text = next;
    index.update(file, text);
    const tree = parsePython(parser, text);
    const fresh = summarizeModule(tree);
    tree.delete();
    assert.deepEqual(plain(index.summaryOf(file)!), plain(fresh), what);
    const freshIndex = await makeIndex(workspace({ 'train.py': text }));
    assert.deepEqual(where(index.report()), where(freshIndex.report()), what);
  }
});

test('a module edited while the file is also saved: the text from disk is the same module', async () => {
  const dir = workspace({ 'train.py': MODULE });
  const file = path.join(dir, 'train.py');
  const index = await makeIndex(dir);
  const edited = insertLine('def emoji_reward(', '    # counted up to 4')(MODULE);
  index.update(file, edited);
  fs.writeFileSync(file, edited);
  index.update(file);
  const fresh = await makeIndex(dir);
  assert.deepEqual(where(index.report()), where(fresh.report()));
  assert.equal(index.report().rewards.find((r) => r.name === 'length_reward')?.range.start.line, lineOf(edited, 'def length_reward'));
});
