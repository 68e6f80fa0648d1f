import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyEdits, byName, codes, discover } from './helpers';

test('a well-formed standard reward has no problems', async () => {
  const report = await discover({
    'rewards.py': 'def emoji_reward(completions, **kwargs) -> list[float]:\n    return [min(c.count("😀"), 4) for c in completions]\n',
  });
  const reward = byName(report, 'emoji_reward');
  assert.equal(reward.kind, 'function');
  assert.equal(reward.origin, 'shape');
  assert.deepEqual(reward.problems, []);
});

test('missing **kwargs is an error on the parameter list with a fix that repairs it', async () => {
  const source = 'def length_reward(prompts, completions):\n    return [1.0 for c in completions]\n';
  const report = await discover({ 'r.py': source });
  const [problem] = byName(report, 'length_reward').problems;
  assert.equal(problem.code, 'GRPO101');
  assert.equal(problem.severity, 'error');
  assert.match(problem.message, /completion_ids=, trainer_state=, log_extra=, log_metric=/);
  assert.deepEqual(problem.range.start, { line: 0, character: 17 });
  assert.ok(problem.fix);
  const fixed = applyEdits(source, problem.fix.edits);
  assert.equal(fixed.split('\n')[0], 'def length_reward(prompts, completions, **kwargs):');
  const again = await discover({ 'r.py': fixed });
  assert.deepEqual(byName(again, 'length_reward').problems, []);
});

test('the fix also works for multi-line signatures, trailing commas and empty lambdas', async () => {
  const source =
    'def reward_a(\n    prompts,\n    completions,\n):\n    return [0.0 for _ in completions]\n\nshort_reward = lambda: [0.0]\n\nfrom trl import GRPOTrainer\nGRPOTrainer(reward_funcs=[reward_a, short_reward])\n';
  const report = await discover({ 'r.py': source });
  const fixA = byName(report, 'reward_a').problems.find((p) => p.code === 'GRPO101')?.fix;
  const fixB = byName(report, 'short_reward').problems.find((p) => p.code === 'GRPO101')?.fix;
  assert.ok(fixA && fixB);
  const fixed = applyEdits(source, [...fixA.edits, ...fixB.edits]);
  const again = await discover({ 'r.py': fixed });
  assert.deepEqual(codes(byName(again, 'reward_a')), []);
  assert.match(fixed, /lambda \*\*kwargs: \[0\.0\]/);
});

test('signature errors: singular completion, positional-only, *args only', async () => {
  const report = await discover({
    'r.py': [
      'def format_reward(completion, **kwargs):\n    return [1.0]\n',
      'def posonly_reward(completions, /, **kwargs):\n    return [0.0 for _ in completions]\n',
      'def args_reward(*args):\n    return [0.0]\n',
      'def args_kwargs_reward(*args, **kwargs):\n    return [0.0 for _ in args[0]]\n',
      'def posonly_default_reward(completions=None, /, **kwargs):\n    return [0.0 for _ in kwargs["completions"]]\n',
    ].join('\n'),
  });
  assert.deepEqual(codes(byName(report, 'format_reward')), ['GRPO103', 'GRPO116']);
  assert.deepEqual(codes(byName(report, 'posonly_reward')), ['GRPO102']);
  assert.deepEqual(codes(byName(report, 'args_reward')), ['GRPO105', 'GRPO116']);
  assert.deepEqual(codes(byName(report, 'args_kwargs_reward')), ['GRPO105']);
  const posDefault = byName(report, 'posonly_default_reward').problems;
  assert.deepEqual(
    posDefault.map((p) => [p.code, p.severity]),
    [['GRPO125', 'warning']],
  );
});

test('return checks: scalar, nothing, strings, annotations', async () => {
  const report = await discover({
    'r.py': [
      'def scalar_reward(completions, **kwargs):\n    score = 0.0\n    score += 1\n    return score\n',
      'def silent_reward(completions, **kwargs):\n    print(completions)\n',
      'def label_reward(completions, **kwargs):\n    return ["good" for c in completions]\n',
      'def annotated_reward(completions, **kwargs) -> float:\n    return [1.0 for c in completions]\n',
      'def fine_reward(completions, **kwargs) -> list[float | None]:\n    return [None for c in completions]\n',
      'def early_reward(completions, **kwargs):\n    if not completions:\n        return 0.0\n    return [1.0 for c in completions]\n',
      'def gen_reward(completions, **kwargs):\n    for c in completions:\n        yield 1.0\n',
      'def one_reward(completions, **kwargs):\n    return [1.0]\n',
      'def guarded_reward(completions, **kwargs):\n    if not completions:\n        return []\n    return [1.0 for c in completions]\n',
      'import numpy as np\ndef array_reward(completions, **kwargs) -> np.ndarray:\n    return np.ones(len(completions))\n',
    ].join('\n'),
  });
  assert.deepEqual(codes(byName(report, 'scalar_reward')), ['GRPO111']);
  assert.deepEqual(codes(byName(report, 'silent_reward')), ['GRPO112']);
  assert.deepEqual(codes(byName(report, 'label_reward')), ['GRPO113']);
  assert.deepEqual(
    byName(report, 'annotated_reward').problems.map((p) => [p.code, p.severity]),
    [['GRPO114', 'warning']],
  );
  assert.deepEqual(codes(byName(report, 'fine_reward')), []);
  assert.deepEqual(
    byName(report, 'early_reward').problems.map((p) => [p.code, p.severity]),
    [['GRPO115', 'warning']],
  );
  assert.deepEqual(codes(byName(report, 'gen_reward')), []);
  assert.deepEqual(codes(byName(report, 'array_reward')), []);
  assert.deepEqual(
    byName(report, 'one_reward').problems.map((p) => [p.code, p.severity]),
    [['GRPO116', 'error']],
  );
  assert.deepEqual(codes(byName(report, 'guarded_reward')), []);
});

test('dataset columns: unknown gives a warning, declared columns decide', async () => {
  const files = {
    'r.py': 'def answer_reward(completions, answer, **kwargs):\n    return [float(a in c) for c, a in zip(completions, answer)]\n',
  };
  const unknown = await discover(files);
  assert.deepEqual(
    byName(unknown, 'answer_reward').problems.map((p) => [p.code, p.severity]),
    [['GRPO121', 'warning']],
  );
  const present = await discover(files, { columns: ['answer'] });
  assert.deepEqual(codes(byName(present, 'answer_reward')), []);
  const absent = await discover(files, { columns: ['solution'] });
  assert.deepEqual(codes(byName(absent, 'answer_reward')), ['GRPO104']);
});

test('a column seen in the workspace dataset code silences the column warning', async () => {
  const report = await discover({
    'r.py': 'def answer_reward(completions, answer, **kwargs):\n    return [0.0 for c in completions]\n',
    'data.py': 'rows = [{"prompt": "質問", "answer": "答え"}]\n',
  });
  assert.deepEqual(codes(byName(report, 'answer_reward')), []);
});

test('without **kwargs, every declared column must be accepted', async () => {
  const source =
    'def all_named(prompts, completions, completion_ids, trainer_state, log_extra, log_metric):\n    return [0.0 for c in completions]\n';
  assert.deepEqual(codes(byName(await discover({ 'r.py': source }), 'all_named')), ['GRPO124']);
  assert.deepEqual(codes(byName(await discover({ 'r.py': source }, { columns: [] }), 'all_named')), []);
  assert.deepEqual(codes(byName(await discover({ 'r.py': source }, { columns: ['answer'] }), 'all_named')), ['GRPO101']);
});

test('conversational data: string operations warn, message access on standard data is an error', async () => {
  const files = {
    'r.py': [
      'import re',
      'def length_reward(completions, **kwargs):\n    return [-abs(len(c) - 30) for c in completions]',
      'def regex_reward(prompts, completions, **kwargs):\n    return [1.0 if re.search(r"\\d", c) else 0.0 for p, c in zip(prompts, completions)]',
      'def content_reward(completions, **kwargs):\n    return [len(c[0]["content"]) for c in completions]',
    ].join('\n'),
  };
  const conversational = await discover(files, { format: 'conversational' });
  const severity = (report: typeof conversational, name: string) => byName(report, name).problems.map((p) => [p.code, p.severity]);
  assert.deepEqual(severity(conversational, 'length_reward'), [['GRPO122', 'warning']], 'len() of a list is wrong, not fatal');
  assert.deepEqual(severity(conversational, 'regex_reward'), [['GRPO122', 'error']], 're.search on a list raises');
  assert.deepEqual(codes(byName(conversational, 'content_reward')), []);
  const standard = await discover(files, { format: 'standard' });
  assert.deepEqual(codes(byName(standard, 'length_reward')), []);
  assert.deepEqual(codes(byName(standard, 'content_reward')), ['GRPO123']);
  const toChat = 'def to_chat(x):\n    return {"prompt": [{"role": "user", "content": x["question"]}]}\n';
  const elsewhere = await discover({ ...files, 'data.py': toChat });
  assert.deepEqual(codes(byName(elsewhere, 'length_reward')), [], "another module's chat data says nothing of these rewards' trainer");
  const auto = await discover({ 'r.py': `${files['r.py']}\n${toChat}` });
  assert.deepEqual(codes(byName(auto, 'length_reward')), ['GRPO122']);
  assert.deepEqual(severity(auto, 'regex_reward'), [['GRPO122', 'warning']], 'a format guessed from the module only warns');
  assert.deepEqual(codes(byName(auto, 'content_reward')), []);
});
