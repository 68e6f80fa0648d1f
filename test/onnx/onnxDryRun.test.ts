// The in-editor dry run (sampling/core/onnxDryRun.ts) on the tiny ONNX LM with real rewards in the
// real Python worker: K groups of G in order, TRL's step metrics recomputed from the rows, the signal
// report's findings, a reward that raises, a cancel, and the settings that send a dry run to TRL.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { loadPythonParser } from '../../src/discovery/core/parser';
import { onnxDryRun, settingsTheSamplerLacks, type OnnxDryRunOptions } from '../../src/sampling/core/onnxDryRun';
import { RewardWorker } from '../../src/scoring/rewardWorker';
import { advantageDriversOf, findingsOf, signalOf, type DryRunStep } from '../../src/scoring/signal';
import { untranslated } from '../../src/shared/vocabulary';

const repo = path.resolve(__dirname, '..', '..');
const LM = path.join(repo, 'test', 'fixtures', 'generated', 'tiny-lm-onnx');
const python = path.resolve(process.env.GRPO_TEST_PYTHON ?? path.join(repo, '.venv-test', 'bin', 'python'));

const REWARDS = `
def length_reward(completions, **kwargs):
    return [float(len(c)) for c in completions]


def constant_reward(completions, **kwargs):
    return [1.0 for _ in completions]


def answer_reward(completions, answer, **kwargs):
    return [None if a == "skip" else float(a in c) for c, a in zip(completions, answer)]


def ids_reward(completions, completion_ids, **kwargs):
    return [float(len(ids)) for ids in completion_ids]


def broken_reward(completions, **kwargs):
    raise RuntimeError("the scorer is down")
`;

async function setUp() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grpo dry run ドライ-'));
  const file = path.join(dir, 'rewards.py');
  fs.writeFileSync(file, REWARDS);
  const worker = new RewardWorker({
    python,
    workerScript: path.join(repo, 'python', 'grpo_studio_worker.py'),
    cwd: dir,
    timeoutMs: 30_000,
  });
  const options = (names: string[], overrides: Partial<OnnxDryRunOptions> = {}): OnnxDryRunOptions => ({
    sampleWorker: path.join(repo, 'dist', 'sampleWorker.js'),
    exportDir: LM,
    modelName: 'models/tiny',
    values: { num_generations: 4, max_completion_length: 12, temperature: 1.0, seed: 7 },
    trlVersion: '1.16.0',
    prompts: [
      { prompt: '富士山の高さは？', columns: { answer: 'a' } },
      { prompt: 'What is two plus two?', columns: { answer: 'skip' } },
      { prompt: '猫が好きです 🐱', columns: { answer: 'e' } },
    ],
    out: path.join(dir, 'dry.samples.jsonl'),
    worker,
    parser,
    rewards: names.map((name) => ({ name, file, attr: name })),
    paths: [dir],
    scoring: { scaleRewards: 'group', aggregation: 'sum_then_normalize' },
    ...overrides,
  });
  return { dir, worker, options };
}

let parser: Awaited<ReturnType<typeof loadPythonParser>>;

test('in-editor dry run: K groups of G scored as TRL scores them, with TRL’s step metrics', async () => {
  parser = await loadPythonParser(path.join(repo, 'dist'));
  const { worker, options } = await setUp();
  try {
    const firstGroups: { step: DryRunStep; prompts: number }[] = [];
    const outcome = await onnxDryRun(
      options(['length_reward', 'constant_reward', 'answer_reward', 'ids_reward'], {
        onFirstGroup: (first, prompts) => void firstGroups.push({ step: first, prompts }),
      }),
    );
    assert.ok('step' in outcome, JSON.stringify(outcome));
    const { step } = outcome;
    // The first group was scored alone while the others were sampled: the same rows as in the whole step.
    assert.equal(firstGroups.length, 1);
    assert.equal(firstGroups[0].prompts, 3);
    assert.deepEqual(firstGroups[0].step.rows, step.rows.slice(0, 4), 'under scale_rewards=group a group alone has its final advantages');
    assert.equal(firstGroups[0].step.metrics.frac_reward_zero_std, new Set(step.rows.slice(0, 4).map((r) => r.total)).size === 1 ? 1 : 0);
    assert.equal(step.rows.length, 12);
    assert.equal(step.num_generations, 4);
    assert.deepEqual(
      step.rows.map((r) => r.prompt),
      options([]).prompts.flatMap((p) => Array(4).fill(p.prompt)),
      'K groups of G, in prompt order',
    );
    for (const row of step.rows) {
      assert.ok(row.length >= 1 && row.length <= 12, `length ${row.length}`);
      if (row.truncated) assert.equal(row.length, 12, 'only a completion at the limit is cut');
      assert.equal(row.rewards.length_reward, [...(row.completion as string)].length, 'Python counts code points');
      assert.equal(row.rewards.constant_reward, 1);
      assert.equal(row.rewards.answer_reward === null, row.columns?.answer === 'skip', 'the dataset column reached the reward');
      assert.equal(row.completion_ids?.length, row.length, 'the sampled ids, EOS included, are the row’s length');
      assert.equal(row.rewards.ids_reward, row.length, 'the reward got the sampled ids as completion_ids, not placeholders');
    }
    const { metrics } = step;
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.equal(metrics['completions/mean_length'], mean(step.rows.map((r) => r.length)));
    assert.equal(metrics['completions/clipped_ratio'], step.rows.filter((r) => r.truncated).length / 12);
    const totals = step.rows.map((r) => r.total!);
    const flat = [0, 1, 2].filter((g) => new Set(totals.slice(g * 4, g * 4 + 4)).size === 1).length / 3;
    assert.equal(metrics.frac_reward_zero_std, flat);
    assert.equal(metrics['rewards/constant_reward/std'], 0);
    assert.ok(Math.abs(metrics['rewards/length_reward/mean'] - mean(step.rows.map((r) => r.rewards.length_reward!))) < 1e-9);
    const answered = step.rows.map((r) => r.rewards.answer_reward).filter((v): v is number => v !== null);
    assert.ok(Math.abs(metrics['rewards/answer_reward/mean'] - mean(answered)) < 1e-9, 'None left out, as nanmean');
    for (const [g, group] of [0, 1, 2].map((g) => [g, step.rows.slice(g * 4, g * 4 + 4)] as const)) {
      const groupMean = mean(group.map((r) => r.total!));
      assert.ok(
        group.every((r) => Math.sign(r.advantage) === Math.sign(Math.round((r.total! - groupMean) * 1e9))),
        `group ${g}: advantages centred on the group's mean`,
      );
    }
    const signal = signalOf(step);
    assert.equal(signal.per_function.constant_reward.frac_zero_std, 1);
    const findings = findingsOf(step, signal, advantageDriversOf(step), { temperature: 1 }, untranslated);
    assert.ok(
      findings.some((f) => f.code === 'DRY003' && f.message.startsWith('constant_reward is 1 on all 12 completions')),
      JSON.stringify(findings),
    );
    assert.equal(fs.readFileSync(options([]).out, 'utf8').trim().split('\n').length, 12, 'the sample set was written');
  } finally {
    worker.dispose();
  }
});

test('in-editor dry run: a raising reward is named, a cancel stops it, unsupported settings go to TRL', async () => {
  parser ??= await loadPythonParser(path.join(repo, 'dist'));
  const { worker, options } = await setUp();
  try {
    const failed = await onnxDryRun(options(['length_reward', 'broken_reward']));
    assert.ok('error' in failed && /^broken_reward raised RuntimeError: the scorer is down/.test(failed.error), JSON.stringify(failed));
    const controller = new AbortController();
    controller.abort();
    assert.deepEqual(
      await onnxDryRun(options(['length_reward'], { signal: controller.signal })),
      { cancelled: true },
      'a cancel before the start samples nothing',
    );
  } finally {
    worker.dispose();
  }
  assert.deepEqual(settingsTheSamplerLacks({ temperature: 0.9, top_k: 50, generation_kwargs: {}, chat_template_kwargs: null }), []);
  assert.deepEqual(
    settingsTheSamplerLacks({ min_p: 0.05, repetition_penalty: 1.1, generation_kwargs: { do_sample: true }, max_prompt_length: 512 }),
    ['min_p', 'repetition_penalty', 'generation_kwargs', 'max_prompt_length'],
  );
});
