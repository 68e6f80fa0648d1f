import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { byName, codes, discover, makeIndex, workspace } from './helpers';

const REWARDS = `import functools
from functools import partial


def emoji_reward(completions, **kwargs):
    return [min(c.count("😀"), 4) for c in completions]


def near(completions, target, **kwargs):
    return [-abs(len(c) - target) for c in completions]


class Base:
    def __call__(self, completions, **kwargs):
        return [0.0 for _ in completions]


class LengthScorer(Base):
    def __init__(self, target):
        self.target = target


class NotCallable:
    pass


def make_reward(weight):
    def weighted(completions, **kwargs):
        return [weight * len(c) for c in completions]
    return weighted


def make_lambda(weight):
    return lambda completions, **kw: [weight for _ in completions]


def extract_answer(completion: str) -> str:
    return completion.strip()


def generate(model, prompts):
    return model(prompts)
`;

test('call-site discovery resolves imports, classes, factories, partials, lambdas and models', async () => {
  const report = await discover({
    'rewards.py': REWARDS,
    'pkg/__init__.py': '',
    'pkg/extra.py': 'async def judge(completions, **kwargs):\n    return [1.0 for _ in completions]\n',
    'pkg/more.py': 'from .extra import judge as judged\n',
    'train.py': `import rewards as rw
from rewards import emoji_reward, LengthScorer, make_reward, near
from pkg import extra
from pkg.more import judged
from functools import partial
from trl import GRPOTrainer

short = lambda completions, **kw: [float(len(c) < 10) for c in completions]
funcs = [rw.make_lambda(1.0), judged]


def main():
    trainer = GRPOTrainer(
        model="Qwen/Qwen2-0.5B",
        reward_funcs=[emoji_reward, LengthScorer(30), make_reward(0.5), partial(near, target=30), short,
                      extra.judge, "OpenAssistant/reward-model", lambda completions, **kw: [0.0] * len(completions),
                      rw.NotCallable()],
    )
    GRPOTrainer(model="m", reward_funcs=funcs)
`,
  });
  const summary = report.rewards.map((r) => `${r.name}:${r.kind}:${r.origin}`).sort();
  assert.deepEqual(summary, [
    '<lambda>:lambda:trainer',
    'Base:class:shape',
    'LengthScorer:class:trainer',
    'NotCallable:class:trainer',
    'OpenAssistant/reward-model:model:trainer',
    'emoji_reward:function:trainer',
    'judge:function:trainer',
    'make_lambda:factory:trainer',
    'near:partial:trainer',
    'short:lambda:trainer',
    'weighted:factory:trainer',
  ]);
  assert.equal(byName(report, 'judge').isAsync, true);
  assert.deepEqual(codes(byName(report, 'near')), [], 'target is bound by partial');
  assert.deepEqual(codes(byName(report, 'LengthScorer')), [], '__call__ inherited from Base');
  assert.deepEqual(codes(byName(report, 'NotCallable')), ['GRPO106']);
  assert.equal(byName(report, 'NotCallable').problems[0].file, path.join(report.root, 'train.py'));
  assert.equal(byName(report, 'emoji_reward').references.length, 1);
});

test('shape discovery lists likely rewards but not ordinary helpers', async () => {
  const report = await discover({ 'rewards.py': REWARDS });
  const names = report.rewards.map((r) => r.name).sort();
  assert.deepEqual(names, ['Base', 'emoji_reward', 'near', 'weighted'], 'Base defines a reward-shaped __call__; its subclass does not');
  assert.deepEqual(codes(byName(report, 'near')), ['GRPO121']);
  const off = await discover({ 'rewards.py': REWARDS }, { byShape: false });
  assert.deepEqual(off.rewards, []);
});

test('helpers a reward calls with positional arguments and abstract __call__ methods are not rewards, unless passed to a trainer', async () => {
  const files = {
    'open_r1_style.py': `def accuracy(completions, solution):
    return 1.0 if completions.strip() == solution.strip() else 0.0


def accuracy_reward(completions, solution, **kwargs):
    return [accuracy(c, s) for c, s in zip(completions, solution)]


class BaseScorer:
    def __call__(self, completions, **kwargs):
        """Score the completions."""
        raise NotImplementedError


class LengthScorer(BaseScorer):
    def __call__(self, completions, **kwargs):
        return [float(len(c)) for c in completions]


def format_reward(completions, **kwargs):
    ...
`,
  };
  const report = await discover(files);
  assert.deepEqual(report.rewards.map((r) => r.name).sort(), ['LengthScorer', 'accuracy_reward']);
  assert.deepEqual(codes(byName(report, 'accuracy_reward')), ['GRPO121'], 'only the column it needs is noted');
  // Passed to GRPOTrainer anyway, the helper is checked like any reward: TRL would call it.
  const wired = await discover({
    ...files,
    'train.py': 'from open_r1_style import accuracy\nfrom trl import GRPOTrainer\nGRPOTrainer(model="m", reward_funcs=[accuracy])\n',
  });
  assert.ok(codes(byName(wired, 'accuracy')).includes('GRPO101'), 'no **kwargs: TRL passes prompts= and raises');
});

test('decorated and Japanese-named rewards keep exact UTF-16 ranges', async () => {
  const report = await discover({
    'r.py':
      'メモ = "絵文字😀を数える"\n\n@some.decorator(1)\ndef 絵文字_reward(prompts, completions):\n    return [0.0 for c in completions]\n',
  });
  const reward = byName(report, '絵文字_reward');
  assert.deepEqual(reward.range, { start: { line: 3, character: 4 }, end: { line: 3, character: 14 } });
  assert.deepEqual(reward.problems[0].range.start, { line: 3, character: 14 });
});

test('star imports and a module attribute chain resolve across files', async () => {
  const report = await discover(
    {
      'lib/__init__.py': '',
      'lib/core.py': 'def base_reward(completions, **kwargs):\n    return [0.0] * len(completions)\n',
      'lib/all.py': 'from lib.core import *\n',
      'run.py':
        'import lib.all\nfrom lib.all import base_reward as b\nfrom trl import GRPOTrainer\nGRPOTrainer(reward_funcs=[b, lib.all.base_reward])\n',
    },
    { byShape: false },
  );
  assert.equal(byName(report, 'base_reward').references.length, 2);
});

test('TRL YAML configs: dotted paths, file paths, built-ins and typos', async () => {
  const report = await discover(
    {
      'my_rewards/__init__.py': '',
      'my_rewards/emoji.py': 'def emoji_reward(completions):\n    return [0.0 for c in completions]\n',
      'configs/run.yaml':
        'model_name_or_path: Qwen/Qwen2-0.5B\nreward_funcs:\n  - my_rewards.emoji.emoji_reward\n  - accuracy_reward\n  - my_rewards.emoji.emoji_rewrd\n  - my_rewards/emoji.py::emoji_reward\n  - notapath\n  - some_pkg.rewards.fn\n',
      'other.yaml': 'name: not a trl config\n',
    },
    { byShape: false },
  );
  const config = path.join(report.root, 'configs/run.yaml');
  const emoji = byName(report, 'emoji_reward');
  assert.equal(emoji.origin, 'config');
  assert.equal(emoji.references.length, 2);
  assert.deepEqual(codes(emoji), ['GRPO101']);
  assert.deepEqual(codes(byName(report, 'accuracy_reward')), ['GRPO131']);
  const typo = byName(report, 'my_rewards.emoji.emoji_rewrd');
  assert.deepEqual(
    typo.problems.map((p) => [p.code, p.file, p.range.start.line]),
    [['GRPO107', config, 4]],
  );
  assert.deepEqual(codes(byName(report, 'notapath')), ['GRPO107']);
  assert.deepEqual(codes(byName(report, 'some_pkg.rewards.fn')), ['GRPO131']);
});

test('a reward_funcs entry naming a local folder is a reward model with its folder; a hub id is not local', async () => {
  const report = await discover(
    {
      'models/rm/config.json': '{}',
      'configs/run.yaml': 'model_name_or_path: m\nreward_funcs:\n  - ../models/rm\n  - models/rm\n',
      'train.py': 'from trl import GRPOTrainer\nGRPOTrainer(model="m", reward_funcs=["models/rm", "org/reward-model"])\n',
    },
    { byShape: false },
  );
  const models = report.rewards.filter((r) => r.kind === 'model');
  assert.deepEqual(
    models.map((r) => [r.name, r.modelDir && path.relative(report.root, r.modelDir), r.problems.length]),
    [
      ['../models/rm', 'models/rm', 0],
      ['models/rm', 'models/rm', 0],
      ['models/rm', 'models/rm', 0],
      ['org/reward-model', undefined, 0],
    ].sort(),
  );
});

test('robust to syntax errors, bad bytes, Shift_JIS, huge files, venvs, symlink loops', async () => {
  const root = workspace({
    'broken.py':
      'def good_reward(completions, **kwargs):\n    return [0.0 for c in completions]\n\ndef broken(:\n    pass\n\ndef bad_reward(completions):\n    return [1.0 for c in completions]\n',
    'bytes.py': Buffer.concat([
      Buffer.from('x = "'),
      Buffer.from([0xff, 0xfe, 0x80]),
      Buffer.from('"\ndef bytes_reward(completions, **kwargs):\n    return [0.0 for c in completions]\n'),
    ]),
    'sjis.py': Buffer.concat([
      Buffer.from('# -*- coding: shift_jis -*-\nlabel = "'),
      Buffer.from([0x93, 0xfa, 0x96, 0x7b]), // 日本 in Shift_JIS
      Buffer.from('"\ndef sjis_reward(completions, **kwargs):\n    return [0.0 for c in completions]\n'),
    ]),
    'huge.py': `def huge_reward(completions, **kwargs):\n    return [0.0 for c in completions]\n${'# padding\n'.repeat(20000)}`,
    '.venv/lib/site.py': 'def venv_reward(completions, **kwargs):\n    return [0.0]\n',
    'env2/pyvenv.cfg': 'home = /usr\n',
    'env2/lib/x.py': 'def env_reward(completions, **kwargs):\n    return [0.0]\n',
    'node_modules/x/y.py': 'def nm_reward(completions, **kwargs):\n    return [0.0]\n',
    'excluded/z.py': 'def excluded_reward(completions, **kwargs):\n    return [0.0]\n',
  });
  fs.symlinkSync(root, path.join(root, 'loop'));
  const index = await makeIndex(root, { maxFileBytes: 64 * 1024, isExcluded: (file) => file.includes(`${path.sep}excluded`) });
  const report = index.report();
  assert.deepEqual(report.rewards.map((r) => r.name).sort(), ['bad_reward', 'bytes_reward', 'good_reward', 'sjis_reward']);
  assert.deepEqual(codes(byName(report, 'bad_reward')), ['GRPO101']);
  assert.deepEqual(report.skippedLarge, [path.join(root, 'huge.py')]);
});

test('an edit re-checks the edited file and the files that import it, nothing else', async () => {
  const root = workspace({
    'rewards.py': 'def emoji_reward(completions, **kwargs):\n    return [0.0 for c in completions]\n',
    'train.py': 'from rewards import emoji_reward\nfrom trl import GRPOTrainer\nGRPOTrainer(reward_funcs=[emoji_reward])\n',
    'unrelated.py': 'def other_reward(completions, **kwargs):\n    return [0.0 for c in completions]\n',
  });
  const index = await makeIndex(root);
  assert.deepEqual(codes(byName(index.report(), 'emoji_reward')), []);
  const affected = index.update(path.join(root, 'rewards.py'), 'def emoji_reward(completions):\n    return [0.0 for c in completions]\n');
  assert.deepEqual(affected.map((f) => path.basename(f)).sort(), ['rewards.py', 'train.py']);
  const report = index.report();
  assert.deepEqual(codes(byName(report, 'emoji_reward')), ['GRPO101']);
  assert.equal(byName(report, 'emoji_reward').origin, 'trainer');
  assert.deepEqual(
    index.remove(path.join(root, 'unrelated.py')).map((f) => path.basename(f)),
    ['unrelated.py'],
  );
});
