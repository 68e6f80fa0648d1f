import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadPythonParser } from '../../src/discovery/core/parser';
import { RewardIndex, type DiscoveryReport, type IndexOptions } from '../../src/discovery/core/rewardIndex';
import type { RewardFunction } from '../../src/discovery/core/types';
import { untranslated } from '../../src/shared/vocabulary';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const english = untranslated;

/** Writes `files` into a fresh temporary workspace and returns its path. */
export function workspace(files: Record<string, string | Buffer>, name = 'ws'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `grpo-${name}-`));
  for (const [rel, content] of Object.entries(files)) {
    const full = path.join(dir, rel);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(full, content);
  }
  return dir;
}

export async function makeIndex(root: string, options: Partial<IndexOptions> = {}): Promise<RewardIndex> {
  const index = new RewardIndex({
    roots: [root],
    parser: await loadPythonParser(path.join(repoRoot, 'dist')),
    l10n: english,
    format: 'auto',
    byShape: true,
    maxFileBytes: 1024 * 1024,
    ...options,
  });
  index.scan();
  return index;
}

export async function discover(
  files: Record<string, string | Buffer>,
  options: Partial<IndexOptions> = {},
): Promise<DiscoveryReport & { root: string }> {
  const root = workspace(files);
  const index = await makeIndex(root, options);
  return { ...index.report(), root };
}

export function byName(report: DiscoveryReport, name: string): RewardFunction {
  const found = report.rewards.filter((r) => r.name === name);
  if (found.length !== 1) {
    throw new Error(`expected one reward named ${name}, found ${found.length}: ${report.rewards.map((r) => r.name).join(', ')}`);
  }
  return found[0];
}

export function codes(reward: RewardFunction): string[] {
  return reward.problems.map((p) => p.code).sort();
}

type Position = { line: number; character: number };

/** Applies a fix's edits (insertions, or replacements within one line) to a source string. */
export function applyEdits(text: string, edits: { range: { start: Position; end?: Position }; newText: string }[]): string {
  const lines = text.split('\n');
  const sorted = [...edits].sort((a, b) => b.range.start.line - a.range.start.line || b.range.start.character - a.range.start.character);
  for (const edit of sorted) {
    const { line, character } = edit.range.start;
    const end = edit.range.end?.line === line ? edit.range.end.character : character;
    lines[line] = lines[line].slice(0, character) + edit.newText + lines[line].slice(end);
  }
  return lines.join('\n');
}
