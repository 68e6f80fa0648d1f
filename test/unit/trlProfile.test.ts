import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { Code } from '../../src/discovery/core/contract';
import { detectTrlProfile, profileFor, resolveSpecifiers, trainerProfile } from '../../src/discovery/core/trlProfile';
import { NEWEST_KNOWN } from '../../src/shared/trlReleases';
import { byName, discover, repoRoot, workspace } from './helpers';

test('TRL profiles: what each release passes, awaits and accepts', () => {
  assert.deepEqual(profileFor('0.14.0', 'x').keywords, ['prompts', 'completions']);
  assert.deepEqual(profileFor('0.18.2', 'x').keywords, ['prompts', 'completions', 'completion_ids']);
  assert.deepEqual(profileFor('0.22.2', 'x').keywords, ['prompts', 'completions', 'completion_ids', 'trainer_state']);
  assert.deepEqual(profileFor('1.0.0', 'x').keywords, [
    'prompts',
    'completions',
    'completion_ids',
    'trainer_state',
    'log_extra',
    'log_metric',
  ]);
  assert.equal(profileFor('0.26.2', 'x').awaitsAsync, false);
  assert.equal(profileFor('0.27.0', 'x').awaitsAsync, true);
  assert.equal(profileFor('0.15.2', 'x').acceptsNone, false);
  assert.equal(profileFor('0.16.0', 'x').acceptsNone, true);
  assert.equal(profileFor('1.8.0', 'x').acceptsNameless, false);
  assert.equal(profileFor('1.9.0', 'x').acceptsNameless, true);
  assert.equal(profileFor('1.9.2', 'x').checksLength, false);
  assert.equal(profileFor('1.10.0', 'x').checksLength, true);
  const newest = profileFor('1.16.0', 'x');
  assert.equal(trainerProfile(newest, 'RLOOTrainer'), newest);
  const asyncProfile = trainerProfile(newest, 'trl.experimental.async_grpo.AsyncGRPOTrainer');
  assert.deepEqual(asyncProfile.keywords, ['prompts', 'completions', 'completion_ids']);
  assert.equal(asyncProfile.needsPicklable, true);
});

test('a requirement resolves to its pin, or to the newest known release its range admits', () => {
  assert.equal(resolveSpecifiers('==0.22.2'), '0.22.2');
  assert.equal(resolveSpecifiers('>=0.18.2,!=0.19.0,<=0.24.0'), '0.24.0', "Unsloth's range");
  assert.equal(resolveSpecifiers('>=0.14.0'), NEWEST_KNOWN, "the origin article's");
  assert.equal(resolveSpecifiers('<0.20'), '0.19.1');
  assert.equal(resolveSpecifiers('~=0.22.0'), '0.22.2');
  assert.equal(resolveSpecifiers('>=9.0'), undefined);
});

test('the version comes from the option, the installed package, a pin, or the newest known, in that order', () => {
  const dir = workspace({
    'requirements-train.txt': 'torch==2.13.0\ntrl==0.22.2  # as Unsloth\n',
    'venv/bin/python': '',
    'venv/lib/python3.11/site-packages/trl-0.18.1.dist-info/METADATA': 'Metadata-Version: 2.1\nName: trl\nVersion: 0.18.1\n',
  });
  const python = path.join(dir, 'venv', 'bin', 'python');
  assert.deepEqual(pick(detectTrlProfile({ explicit: { version: '0.14.0', source: '--trl-version' }, python, roots: [dir] })), [
    '0.14.0',
    '--trl-version',
  ]);
  assert.deepEqual(pick(detectTrlProfile({ python, roots: [dir] })), ['0.18.1', `installed in ${python}`]);
  assert.deepEqual(pick(detectTrlProfile({ roots: [dir] })), ['0.22.2', 'pinned in requirements-train.txt']);
  const notebook = workspace({
    'grpo.ipynb': JSON.stringify({
      cells: [
        { cell_type: 'markdown', source: ['!pip install trl==0.9.0'] },
        { cell_type: 'code', source: ['%%capture\n', '!pip install unsloth "trl>=0.18.2,!=0.19.0,<=0.24.0"\n'] },
      ],
    }),
  });
  assert.deepEqual(pick(detectTrlProfile({ roots: [notebook] })), [
    '0.24.0',
    'trl>=0.18.2,!=0.19.0,<=0.24.0 in grpo.ipynb: the newest release it admits',
  ]);
  assert.equal(
    detectTrlProfile({ roots: [workspace({ 'pyproject.toml': '[project]\ndependencies = ["trl>=0.14.0"]\n' })] }).version,
    NEWEST_KNOWN,
  );
  assert.equal(detectTrlProfile({ roots: [workspace({})] }).source, 'the newest release GRPO Studio knows');
});

test('check --trl-version: verdicts and messages for that release, and the version in the JSON', () => {
  const dir = workspace({
    'r.py':
      'def qa_reward(prompts, completions, answer):\n    return [0.0 for c in completions]\n\n\nasync def judge_reward(completions, **kwargs):\n    return [0.0 for c in completions]\n',
  });
  const check = (version: string) => {
    const result = spawnSync(
      process.execPath,
      [path.join(repoRoot, 'dist', 'cli.js'), 'check', '--json', '--trl-version', version, 'r.py'],
      {
        cwd: dir,
        encoding: 'utf8',
      },
    );
    if (result.status === 2) return { code: 2, json: undefined, codes: {} };
    const json = JSON.parse(result.stdout);
    const codes = Object.fromEntries(
      json.functions.map((f: { name: string; problems: { code: string }[] }) => [f.name, f.problems.map((p) => p.code).sort()]),
    );
    return { code: result.status, json, codes };
  };
  const old = check('0.14.0');
  assert.deepEqual(old.json.trl, { version: '0.14.0', source: '--trl-version' });
  assert.deepEqual(
    old.codes,
    { qa_reward: ['GRPO121', 'GRPO124'], judge_reward: ['GRPO117'] },
    'no **kwargs needed before 0.18; async not awaited',
  );
  const unsloth = check('0.22.2');
  assert.deepEqual(unsloth.codes, { qa_reward: ['GRPO101', 'GRPO121'], judge_reward: ['GRPO117'] });
  const message = unsloth.json.functions[0].problems.find((p: { code: string }) => p.code === 'GRPO101').message;
  assert.match(message, /also passes completion_ids=, trainer_state=; .* \[TRL 0\.22\.2: --trl-version\]$/);
  assert.deepEqual(check('1.16.0').codes, { qa_reward: ['GRPO101', 'GRPO121'], judge_reward: [] });
  assert.equal(check('latest').code, 2, 'not a release: a usage error');
});

const pick = (p: { version: string; source: string }) => [p.version, p.source];

test('Unsloth with a vision model passes completions as text from TRL 0.24: message indexing is an error there', async () => {
  const files = {
    'train.py': [
      'from unsloth import FastVisionModel',
      'from trl import GRPOConfig, GRPOTrainer',
      '',
      'def answer_reward(completions, **kwargs):',
      '    return [1.0 if "42" in c[0]["content"] else 0.0 for c in completions]',
      '',
      'def text_reward(completions, **kwargs):',
      '    return [float(len(c) < 200) for c in completions]',
      '',
      'dataset = [{"prompt": [{"role": "user", "content": "?"}], "image": None}]',
      'trainer = GRPOTrainer(model=model, reward_funcs=[answer_reward, text_reward], args=GRPOConfig(output_dir="o"), train_dataset=dataset)',
      '',
    ].join('\n'),
  };
  const newer = await discover(files, { trl: profileFor('0.24.0', 'pinned in requirements.txt') });
  const problem = byName(newer, 'answer_reward').problems.find((p) => p.code === Code.messageOpsStandard);
  assert.equal(problem?.severity, 'error');
  assert.match(problem!.message, /^Unsloth trains this vision model with TRL 0\.24\.0: it passes each completion as its decoded text/);
  assert.deepEqual(byName(newer, 'text_reward').problems, [], 'string operations are right on text');
  assert.match(byName(newer, 'text_reward').notes?.[0] ?? '', /with a vision model \(FastVisionModel\).*checked that way for TRL 0\.24\.0/);
  const older = await discover(files, { trl: profileFor('0.22.2', 'pinned in requirements.txt') });
  assert.equal(
    byName(older, 'answer_reward').problems.find((p) => p.code === Code.messageOpsStandard),
    undefined,
    'before 0.24 Unsloth passes what TRL passes',
  );
  assert.match(
    byName(older, 'answer_reward').notes?.[0] ?? '',
    /^Trained through Unsloth, which patches GRPOTrainer but calls reward functions as TRL does/,
  );
});

test('rewards trained through Unsloth carry a note: the TRL release in use is still the profile', async () => {
  const report = await discover(
    {
      'requirements.txt': 'unsloth\ntrl==0.22.2\n',
      'train.py': [
        'from unsloth import FastLanguageModel, PatchFastRL',
        'from trl import GRPOConfig, GRPOTrainer',
        '',
        'def format_reward(completions, **kwargs):',
        '    return [1.0 for c in completions]',
        '',
        'trainer = GRPOTrainer(model=model, reward_funcs=[format_reward], args=GRPOConfig(output_dir="o"))',
        '',
      ].join('\n'),
      'plain.py':
        'from trl import GRPOTrainer\n\ndef other_reward(completions, **kwargs):\n    return [0.0 for c in completions]\n\nGRPOTrainer(model="m", reward_funcs=[other_reward])\n',
    },
    { trl: profileFor('0.22.2', 'pinned in requirements.txt') },
  );
  assert.deepEqual(byName(report, 'format_reward').notes, [
    'Trained through Unsloth, which patches GRPOTrainer but calls reward functions as TRL does: checked for TRL 0.22.2 (pinned in requirements.txt).',
  ]);
  assert.equal(byName(report, 'other_reward').notes, undefined);
});
