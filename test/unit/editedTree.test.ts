import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { Node } from 'web-tree-sitter';
import { EditedModuleTree } from '../../src/discovery/core/editedTree';
import { loadPythonParser } from '../../src/discovery/core/parser';
import { repoRoot } from './helpers';

/** A tree as the summarizer reads it: named nodes with their positions (comments aside), re-parsed statements in place of their nodes. */
function outline(node: Node, replacement: (node: Node) => Node | undefined = () => undefined): string {
  const read = replacement(node) ?? node;
  const { row, column } = read.startPosition;
  const children = read.namedChildren.filter((c): c is Node => c !== null && c.type !== 'comment').map((c) => outline(c, replacement));
  return `(${read.type}@${row}:${column}-${read.endPosition.row}:${read.endPosition.column}${read.childCount === 0 ? ` ${read.text}` : ''}${children.length ? ' ' + children.join(' ') : ''})`;
}

const SOURCE = fs.readFileSync(path.join(repoRoot, 'test', 'fixtures', 'zoo', 'rewards.py'), 'utf8');
const CLASS = `
class Rewards:
    """Scores 😀 answers."""

    scale = 1.0

    def emoji(self, completions, **kwargs):
        return [min(c.count("😀"), 4) / 4 for c in completions]

    @staticmethod
    def length(completions, **kwargs):
        return [-abs(len(c) - 30) / 30 for c in completions]

    def __call__(self, completions, **kwargs):
        return self.emoji(completions)
`;

/** A seeded stream of numbers in [0, 1). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const PIECES = ['x', ' ', '\n', '\n    ', '(', ')', '"', '"""', '#', ':', 'def f(a):\n        return 1\n', '😀', '日本', '\\', '[', ']'];

/** Typing that keeps Python valid: a letter added to a name, or a statement on a new line after a simple one. */
function validEdit(text: string, next: () => number): string {
  const lines = text.split('\n');
  const at = Math.floor(next() * lines.length);
  const line = lines[at];
  if (next() < 0.5) {
    const names = [...line.matchAll(/[A-Za-z_]\w*/g)];
    const name = names[Math.floor(next() * names.length)];
    if (name?.index !== undefined) {
      const cut = name.index + 1 + Math.floor(next() * name[0].length);
      lines[at] = line.slice(0, cut) + 'x' + line.slice(cut);
      return lines.join('\n');
    }
  }
  const indent = /^\s*/.exec(line)![0];
  lines.splice(at + 1, 0, `${indent}typed_${at} = 1`);
  return lines.join('\n');
}

test('after any edit, the edited tree reads as a fresh parse of the text, statements re-parsed alone included', async () => {
  const parser = await loadPythonParser(path.join(repoRoot, 'dist'));
  const next = random(7);
  let valid = SOURCE + CLASS;
  let text = valid;
  const tree = new EditedModuleTree(parser, text);
  let checked = 0;
  let alone = 0;
  try {
    for (let step = 0; step < 600; step++) {
      // Valid typing, then a random keystroke or deletion (mostly not Python), then back to the valid text.
      const at = Math.floor(next() * (text.length + 1));
      if (step % 3 === 0) text = validEdit(valid, next);
      else if (step % 3 === 2) text = valid;
      else if (next() < 0.3) text = text.slice(0, at) + text.slice(Math.min(text.length, at + 1 + Math.floor(next() * 4)));
      else text = text.slice(0, at) + PIECES[Math.floor(next() * PIECES.length)] + text.slice(at);
      tree.update(text);
      const fresh = parser.parse(text)!;
      try {
        // Where the text is not Python, tree-sitter's own incremental parse may recover from the error otherwise than a fresh one.
        if (fresh.rootNode.hasError) continue;
        if (step % 3 === 0) valid = text;
        checked++;
        let replaced = false;
        const read = outline(tree.rootNode, (n) => {
          const statement = tree.replacement(n);
          replaced ||= statement !== undefined;
          return statement;
        });
        assert.equal(read, outline(fresh.rootNode), `step ${step}`);
        if (replaced) alone++;
      } finally {
        fresh.delete();
      }
    }
  } finally {
    tree.delete();
  }
  assert.ok(checked > 300 && alone > checked / 4, `of ${checked} edits that left valid Python, ${alone} re-parsed statements alone`);
});

test('a method typed in is re-parsed alone; an unclosed bracket parses the module again', async () => {
  const parser = await loadPythonParser(path.join(repoRoot, 'dist'));
  const text = SOURCE + CLASS;
  const tree = new EditedModuleTree(parser, text);
  try {
    const typed = text.replace('min(c.count("😀"), 4) / 4', 'min(c.count("😀"), 3) / 3');
    tree.update(typed);
    const method = (root: Node) =>
      root.descendantsOfType('function_definition').find((f) => f?.childForFieldName('name')?.text === 'emoji')!;
    const replaced = tree.replacement(method(tree.rootNode));
    assert.ok(replaced, 'the method was re-parsed alone');
    assert.match(replaced.text, /, 3\) \/ 3/);
    assert.equal(replaced.startPosition.row, method(tree.rootNode).startPosition.row);

    tree.update(typed.replace('return [min(', 'return [(min('));
    assert.equal(tree.replacement(method(tree.rootNode)), undefined, 'a broken method is not read alone');
    assert.ok(tree.rootNode.hasError, 'the whole module was parsed again, error and all');
  } finally {
    tree.delete();
  }
});
