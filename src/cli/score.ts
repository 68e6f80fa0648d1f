import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { loadPythonParser, parsePython } from '../discovery/core/parser';
import { skippedByWeight, type ModuleSlice } from '../discovery/core/moduleSlice';
import type { Parser } from 'web-tree-sitter';
import { RewardIndex } from '../discovery/core/rewardIndex';
import type { Aggregation, ScaleRewards } from '../scoring/advantages';
import { onnxModelReward } from '../scoring/rewardModel';
import { isModelReward, scoreSamples, type Preview, type PreviewReward } from '../scoring/engine';
import { RewardWorker, WorkerFault } from '../scoring/rewardWorker';
import { parseSampleSet, type SampleSet } from '../scoring/samples';
import { cliLocalizer } from './localizer';
import { cliPython } from './python';
import { displayText } from '../shared/vocabulary';
import { pythonScript } from '../shared/pythonScripts';
import { MAX_TIMER_SECONDS, numberOption } from './options';
import { readUtf8File } from '../shared/encoding';

const DEFAULT_TIMEOUT_MS = 60_000;

/** `grpo-studio score`: runs reward functions on a sample set, with GRPO advantages as TRL computes them. */
export async function runScore(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      rewards: { type: 'string', multiple: true },
      samples: { type: 'string' },
      python: { type: 'string' },
      weights: { type: 'string' },
      'scale-rewards': { type: 'string', default: 'group' },
      aggregation: { type: 'string', default: 'sum_then_normalize' },
      tokenizer: { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const usage = (message: string) => {
    process.stderr.write(`grpo-studio score: ${message}\n`);
    return 2;
  };
  if (!values.rewards?.length) return usage('--rewards FILE[::name,...] or an ONNX reward model folder is required');
  if (!values.samples) return usage('--samples FILE.jsonl is required');
  const scaleRewards = values['scale-rewards'] as ScaleRewards;
  if (!['group', 'batch', 'none'].includes(scaleRewards)) return usage('--scale-rewards must be group, batch or none');
  const aggregation = values.aggregation as Aggregation;
  if (!['sum_then_normalize', 'normalize_then_sum'].includes(aggregation)) {
    return usage('--aggregation must be sum_then_normalize or normalize_then_sum');
  }
  const samplesFile = path.resolve(values.samples);
  if (!fs.existsSync(samplesFile)) return usage(`no such samples file: ${samplesFile}`);
  if (fs.statSync(samplesFile).isDirectory()) return usage(`--samples ${values.samples} is a folder; give a JSON Lines file`);
  let set: SampleSet;
  try {
    set = parseSampleSet(readUtf8File(samplesFile));
  } catch (error) {
    return usage((error as Error).message);
  }
  for (const problem of set.problems) {
    process.stderr.write(`${values.samples}:${problem.line}: skipped: ${problem.message}\n`);
  }
  if (set.samples.length === 0) return usage(`no usable samples in ${values.samples}`);

  let rewards: PreviewReward[];
  try {
    rewards = (await Promise.all(values.rewards.map(resolveRewardSpec))).flat();
  } catch (error) {
    return usage((error as Error).message);
  }
  const timeout = values.timeout === undefined ? undefined : numberOption(values.timeout, { above: 0, max: MAX_TIMER_SECONDS });
  if (values.timeout !== undefined && timeout === undefined)
    return usage(`--timeout must be a number of seconds above 0 and at most ${MAX_TIMER_SECONDS} (about 24 days)`);
  let weights: number[] | undefined;
  if (values.weights !== undefined) {
    weights = values.weights.split(',').map(Number);
    if (weights.length !== rewards.length || weights.some((w) => !Number.isFinite(w))) {
      return usage(`--weights needs ${rewards.length} number(s), one per reward function (${rewards.map((r) => r.name).join(', ')})`);
    }
  }

  const worker = rewards.some((r) => !isModelReward(r))
    ? new RewardWorker({
        python: values.python ?? cliPython().path,
        workerScript: pythonScript(path.join(__dirname, '..'), 'worker'),
        cwd: process.cwd(),
        timeoutMs: timeout !== undefined ? timeout * 1000 : DEFAULT_TIMEOUT_MS,
        onOutput: (text) => process.stderr.write(text),
      })
    : undefined;
  // The worker has a process group of its own: Ctrl+C reaches only us, and we end it and what it started.
  const interrupt = (signal: NodeJS.Signals) => {
    worker?.dispose();
    process.stderr.write(`\ngrpo-studio score: interrupted (${signal})\n`);
    process.exit(128 + os.constants.signals[signal]);
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  let preview: Preview;
  try {
    preview = await scoreSamples(worker, {
      parser: await loadPythonParser(__dirname),
      rewards,
      set,
      paths: [...new Set([process.cwd(), ...rewards.flatMap((r) => (isModelReward(r) ? [] : [path.dirname(r.file)]))])],
      options: { weights, scaleRewards, aggregation },
      tokenizer: values.tokenizer,
    });
  } catch (error) {
    const kind = error instanceof WorkerFault ? ` (${error.kind})` : '';
    process.stderr.write(`grpo-studio score: ${worker ? 'the reward worker' : 'scoring'} failed${kind}: ${(error as Error).message}\n`);
    return 1;
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    worker?.dispose();
  }

  for (const [file, slice] of Object.entries(preview.slices)) {
    if (slice.skipped.length && !slice.whole) process.stderr.write(`${sliceNote(path.relative(process.cwd(), file), slice)}\n`);
  }
  let failed = false;
  for (const outcome of preview.functions) {
    if (outcome.error) {
      failed = true;
      const where = outcome.error.traceback.at(-1);
      const place = where && (where.cell === undefined ? `${where.file}:${where.line}` : `${where.file}:cell ${where.cell}:${where.line}`);
      process.stderr.write(`${outcome.name}: ${outcome.error.type}: ${outcome.error.message}${place ? ` (${place})` : ''}\n`);
    }
    for (const warning of outcome.warnings) process.stderr.write(`${outcome.name}: warning: ${warning}\n`);
  }
  process.stdout.write(values.json ? `${JSON.stringify(toJson(set, preview), null, 2)}\n` : formatTable(set, preview));
  return failed ? 1 : 0;
}

/**
 * `FILE` (every reward defined there), `FILE::a,b` (those names, in that order), or an ONNX reward
 * model folder (scored as GRPOTrainer scores a model: prompt + completion, logits[:, 0]).
 */
async function resolveRewardSpec(spec: string): Promise<PreviewReward[]> {
  // A folder is a reward model; loading it names any file it lacks.
  if (isDirectory(path.resolve(spec))) return [onnxModelReward(path.resolve(spec))];
  const [fileText, namesText] = spec.split('::');
  const file = path.resolve(fileText);
  if (!fs.existsSync(file)) throw new Error(`no such reward file: ${fileText}`);
  const parser = await loadPythonParser(__dirname);
  const index = new RewardIndex({
    roots: [path.dirname(file)],
    parser,
    l10n: cliLocalizer(),
    format: 'auto',
    byShape: true,
    maxFileBytes: 8 * 1024 * 1024,
  });
  index.scan();
  index.update(file);
  const report = index.report();
  if (report.skippedLarge.includes(file))
    throw new Error(`${fileText} is larger than 8 MB: the checker does not read it; name its rewards with ${fileText}::name`);
  const unchecked = report.unchecked.find((u) => u.file === file);
  if (unchecked) throw new Error(`${fileText}: ${unchecked.reason}; name its rewards with ${fileText}::name`);
  const found = report.rewards.filter((r) => r.handle?.file === file);
  const names = namesText
    ?.split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  if (!names) {
    if (found.length === 0) {
      const line = firstSyntaxErrorLine(parser, file);
      const why = line ? ` (it has a syntax error at line ${line}: Python cannot import it)` : '';
      throw new Error(`no reward functions found in ${fileText}${why}; name them with ${fileText}::name`);
    }
    return found.map((r) => ({ name: r.name, file, attr: r.handle!.attr, instantiate: r.handle!.instantiate }));
  }
  return names.map((name) => {
    const reward = found.find((r) => r.name === name || r.handle?.attr === name);
    return reward ? { name, file, attr: reward.handle!.attr, instantiate: reward.handle!.instantiate } : { name, file, attr: name };
  });
}

/** The 1-based line of the first syntax error tree-sitter finds, or undefined when it parses. */
function firstSyntaxErrorLine(parser: Parser, file: string): number | undefined {
  const tree = parsePython(parser, fs.readFileSync(file, 'utf8'));
  try {
    if (!tree.rootNode.hasError) return undefined;
    const cursor = tree.walk();
    // Down into the first child that holds the error, until the error itself.
    for (;;) {
      const node = cursor.currentNode;
      if (node.isError || node.isMissing) return node.startPosition.row + 1;
      if (!cursor.gotoFirstChild()) return node.startPosition.row + 1;
      while (!(cursor.currentNode.hasError || cursor.currentNode.isError || cursor.currentNode.isMissing)) {
        if (!cursor.gotoNextSibling()) return node.startPosition.row + 1;
      }
    }
  } finally {
    tree.delete();
  }
}

/** `note: train.py: ran 4 of 9 top-level statements, the ones its rewards need; not run: line 30 trainer.train(), …` */
function sliceNote(file: string, slice: ModuleSlice): string {
  const total = slice.ran.length + slice.skipped.length;
  const shown = skippedByWeight(slice)
    .slice(0, 3)
    .map((s) => `${s.cell === undefined ? `line ${s.line}` : `cell ${s.cell}:${s.line}`} ${s.text}`);
  const more = slice.skipped.length > shown.length ? `, and ${slice.skipped.length - shown.length} more` : '';
  return `note: ${file}: ran ${slice.ran.length} of ${total} top-level statements, the ones its rewards need; not run: ${shown.join(', ')}${more}`;
}

function isDirectory(file: string): boolean {
  return fs.existsSync(file) && fs.statSync(file).isDirectory();
}

function toJson(set: SampleSet, preview: Preview) {
  const names = preview.functions.map((f) => f.name);
  return {
    functions: names,
    samples: set.samples.map((sample, i) => ({
      prompt: sample.prompt,
      completion: sample.completion,
      group: sample.group,
      rewards: Object.fromEntries(names.map((name, k) => [name, preview.rewards[i][k]])),
      total: preview.totals[i],
      advantage: preview.advantages[i],
    })),
    groups: preview.groups.map((g) => ({ mean: g.mean, std: g.std, zero_std: g.zeroStd })),
  };
}

function cell(value: number | null): string {
  return value === null ? '—' : value.toFixed(3);
}

/** Truncates to `width` terminal columns by whole code points, so emoji are never split. */
function clip(text: string, width: number): string {
  const flat = text.replace(/\s+/g, ' ');
  if (displayWidth(flat) <= width) return flat;
  let out = '';
  for (const ch of flat) {
    if (displayWidth(out + ch) > width - 1) break;
    out += ch;
  }
  return `${out}…`;
}

/** Terminal columns a string takes: East Asian wide characters and emoji take two. */
const WIDE =
  /[\u1100-\u115F\u2E80-\u303E\u3041-\u33FF\u3400-\u4DBF\u4E00-\u9FFF\uA960-\uA97F\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6]|\p{Extended_Pictographic}/u;

function displayWidth(text: string): number {
  return Array.from(text).reduce((width, ch) => width + (WIDE.test(ch) ? 2 : /\p{Mn}|\u200D|\uFE0F/u.test(ch) ? 0 : 1), 0);
}

function pad(text: string, width: number, left: boolean): string {
  const fill = ' '.repeat(Math.max(0, width - displayWidth(text)));
  return left ? text + fill : fill + text;
}

function formatTable(set: SampleSet, preview: Preview): string {
  const names = preview.functions.map((f) => f.name);
  const header = ['line', 'group', 'completion', ...names, 'total', 'advantage'];
  const rows = set.samples.map((sample, i) => [
    String(sample.line),
    String(sample.group),
    clip(displayText(sample.completion), 40),
    ...preview.rewards[i].map(cell),
    cell(preview.totals[i]),
    preview.advantages[i].toFixed(3),
  ]);
  const widths = header.map((h, c) => Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[c]))));
  const line = (cells: string[]) => cells.map((text, c) => pad(text, widths[c], c === 2)).join('  ');
  const out = [line(header), ...rows.map(line), ''];
  preview.groups.forEach((g, index) => {
    const signal = g.zeroStd ? '  no learning signal (reward std = 0)' : '';
    out.push(`group ${index}: mean ${cell(g.mean)}, std ${cell(g.std)}${signal}`);
  });
  out.push(
    `${set.samples.length} samples, ${names.length} reward function(s), ${preview.ms.toFixed(0)} ms${preview.python ? ` (${preview.python.executable})` : ''}`,
  );
  if (preview.placeholderIds) out.push('completion_ids are placeholders (code points); pass --tokenizer for real token ids');
  return `${out.join('\n')}\n`;
}
