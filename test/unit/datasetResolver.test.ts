import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { applyEdits, byName, codes, discover, makeIndex, workspace } from './helpers';

const QA = '{"prompt": "What is 2+2?", "solution": "4"}\n{"prompt": "1+1?", "solution": "2"}\n';

test("a trainer's load_dataset file decides the columns: a missing one is an error naming the file, with a rename fix", async () => {
  const source = [
    'from datasets import load_dataset',
    'from trl import GRPOTrainer',
    '',
    'def accuracy_reward(completions, solutions, **kwargs):',
    '    return [float(s in c) for c, s in zip(completions, solutions)]',
    '',
    'def needs_answer(completions, answer, **kwargs):',
    '    return [0.0 for c in completions]',
    '',
    'dataset = load_dataset("json", data_files="data/qa.jsonl", split="train")',
    'GRPOTrainer(model="m", reward_funcs=[accuracy_reward, needs_answer], train_dataset=dataset)',
    '',
  ].join('\n');
  const report = await discover({ 'train.py': source, 'data/qa.jsonl': QA });
  const [problem] = byName(report, 'accuracy_reward').problems;
  assert.equal(problem.code, 'GRPO104');
  assert.equal(problem.severity, 'error');
  assert.match(problem.message, /'solutions' is not a column of data\/qa\.jsonl \(columns: solution, prompt\)/);
  assert.equal(problem.fix?.title, "Rename 'solutions' to 'solution'");
  const [noSimilar] = byName(report, 'needs_answer').problems;
  assert.equal(noSimilar.fix?.title, "Give 'answer' the default None", 'no column is close: the other fix the message offers');

  const fixed = applyEdits(source, problem.fix!.edits);
  assert.match(
    fixed,
    /def accuracy_reward\(completions, solution, \*\*kwargs\):\n {4}return \[float\(s in c\) for c, s in zip\(completions, solution\)\]/,
  );
  const again = await discover({ 'train.py': fixed, 'data/qa.jsonl': QA });
  assert.deepEqual(codes(byName(again, 'accuracy_reward')), []);
  const defaulted = applyEdits(fixed, byName(again, 'needs_answer').problems[0].fix!.edits);
  assert.match(defaulted, /def needs_answer\(completions, answer=None, \*\*kwargs\):/);
});

test('.map with a dict-returning function, remove_columns=column_names: the new columns and the chat format, per trainer', async () => {
  const report = await discover({
    'data/qa.jsonl': QA,
    'train.py': [
      'import re',
      'from datasets import load_dataset',
      'from trl import GRPOTrainer',
      'SYSTEM = "Answer briefly."',
      'def format_reward(completions, **kwargs):',
      '    return [1.0 if re.match(r"^<think>", c) else 0.0 for c in completions]',
      'def answer_reward(completions, answer, **kwargs):',
      '    return [float(a in c[0]["content"]) for c, a in zip(completions, answer)]',
      'def solution_reward(completions, solution, **kwargs):',
      '    return [0.0 for c in completions]',
      'def make_conversation(example):',
      '    return {"prompt": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": example["prompt"]}], "answer": example["solution"]}',
      'plain = load_dataset("json", data_files={"train": "data/qa.jsonl"})["train"]',
      'GRPOTrainer(model="m", reward_funcs=[format_reward], train_dataset=plain)',
      'chat = plain.map(make_conversation, remove_columns=plain.column_names)',
      'chat = chat.shuffle(seed=0).select(range(2))',
      'GRPOTrainer(model="m", reward_funcs=[answer_reward, solution_reward], train_dataset=chat)',
      '',
    ].join('\n'),
  });
  assert.deepEqual(codes(byName(report, 'format_reward')), [], 'its own trainer trains on plain strings');
  assert.deepEqual(codes(byName(report, 'answer_reward')), [], 'answer is made by the map; message access fits chat data');
  const [removed] = byName(report, 'solution_reward').problems;
  assert.equal(removed.severity, 'error');
  assert.match(removed.message, /'solution' is not a column of data\/qa\.jsonl, \.map\(make_conversation\) \(columns: answer, prompt\)/);
});

test('string operations on a chat dataset the code builds are errors that name it; standard files make message access one', async () => {
  const report = await discover({
    'chat.jsonl': '{"prompt": [{"role": "user", "content": "hi"}]}\n',
    'plain.jsonl': '{"prompt": "hi"}\n',
    'train.py': [
      'import re',
      'from datasets import load_dataset',
      'from trl import GRPOTrainer',
      'def regex_reward(completions, **kwargs):',
      '    return [1.0 if re.search(r"\\d", c) else 0.0 for c in completions]',
      'def content_reward(completions, **kwargs):',
      '    return [len(c[0]["content"]) for c in completions]',
      'GRPOTrainer(model="m", reward_funcs=[regex_reward], train_dataset=load_dataset("json", data_files="chat.jsonl", split="train"))',
      'GRPOTrainer(model="m", reward_funcs=[content_reward], train_dataset=load_dataset("json", data_files="plain.jsonl", split="train"))',
      '',
    ].join('\n'),
  });
  const [regex] = byName(report, 'regex_reward').problems;
  assert.deepEqual([regex.code, regex.severity], ['GRPO122', 'error']);
  assert.match(regex.message, /\[dataset: chat\.jsonl\]$/);
  const [content] = byName(report, 'content_reward').problems;
  assert.deepEqual([content.code, content.severity], ['GRPO123', 'error']);
});

test('Dataset.from_list / from_dict literals, rename_column(s), select_columns and remove_columns', async () => {
  const report = await discover({
    'train.py': [
      'from datasets import Dataset',
      'from trl import GRPOTrainer',
      'def a_reward(completions, answer, **kwargs):\n    return [0.0 for c in completions]',
      'def b_reward(completions, label, **kwargs):\n    return [0.0 for c in completions]',
      'def c_reward(completions, extra, **kwargs):\n    return [0.0 for c in completions]',
      'rows = [{"prompt": "q1", "ans": "1", "extra": 1}, {"prompt": "q2", "ans": "2", "extra": 2}]',
      'ds = Dataset.from_list(rows).rename_column("ans", "answer").remove_columns(["extra"])',
      'GRPOTrainer(model="m", reward_funcs=[a_reward, c_reward], train_dataset=ds)',
      'other = Dataset.from_dict({"prompt": ["q"], "y": ["1"], "z": [0]}).rename_columns({"y": "label"}).select_columns(["prompt", "label"])',
      'GRPOTrainer(model="m", reward_funcs=[b_reward], train_dataset=other)',
      '',
    ].join('\n'),
  });
  assert.deepEqual(codes(byName(report, 'a_reward')), []);
  assert.deepEqual(codes(byName(report, 'b_reward')), []);
  const [extra] = byName(report, 'c_reward').problems;
  assert.equal(extra.code, 'GRPO104');
  assert.match(extra.message, /not a column of Dataset\.from_list\(\.\.\.\) at train\.py:10 \(columns: answer, prompt\)/);
});

test('a Hub dataset is read from the local Hugging Face cache (datasets cache, then hub cache), never the network', async () => {
  const cache = workspace({
    'datasets/openai___gsm8k/main/0.0.0/abc123/dataset_info.json': JSON.stringify({
      features: { question: { dtype: 'string', _type: 'Value' }, answer: { dtype: 'string', _type: 'Value' } },
    }),
  });
  const files = {
    'train.py': [
      'from datasets import load_dataset',
      'from trl import GRPOTrainer',
      'def r(completions, solution, **kwargs):\n    return [0.0 for c in completions]',
      'ds = load_dataset("openai/gsm8k", "main", split="train")',
      'GRPOTrainer(model="m", reward_funcs=[r], train_dataset=ds)',
      'missing = load_dataset("someone/not-cached", split="train")',
      'GRPOTrainer(model="m", reward_funcs=[r], train_dataset=missing)',
      '',
    ].join('\n'),
  };
  const saved = process.env.HF_HOME;
  process.env.HF_HOME = cache;
  try {
    const report = await discover(files);
    const problems = byName(report, 'r').problems;
    const fromCache = problems.find((p) => p.code === 'GRPO104');
    assert.match(fromCache?.message ?? '', /not a column of openai\/gsm8k \(Hugging Face cache\) \(columns: question, answer, prompt\)/);
    const unknown = problems.find((p) => p.code === 'GRPO121');
    assert.match(unknown?.message ?? '', /someone\/not-cached is a Hub dataset that is not in the local Hugging Face cache/);
    assert.match(unknown?.message ?? '', /--columns or the grpoStudio\.dataset\.columns setting/);
    assert.ok(!fs.existsSync(path.join(cache, 'datasets', 'someone___not-cached')), 'nothing is fetched or written');
  } finally {
    if (saved === undefined) delete process.env.HF_HOME;
    else process.env.HF_HOME = saved;
  }
});

test('a draft like def qmark(completion): is listed with warnings that say what TRL passes, and errors once wired', async () => {
  const draft = 'def qmark(completion):\n    return 1.0 if "?" in completion else 0.0\n';
  const helper = 'def clean(completion):\n    return completion.strip()\n';
  const unwired = await discover({ 'r.py': draft + helper });
  const problems = byName(unwired, 'qmark').problems;
  assert.ok(problems.length > 0 && problems.every((p) => p.severity === 'warning'));
  const never = problems.find((p) => p.code === 'GRPO103');
  assert.match(never?.message ?? '', /it passes completions=/);
  assert.equal(never?.fix?.title, "Rename 'completion' to 'completions'");
  assert.ok(!unwired.rewards.some((r) => r.name === 'clean'), 'a function returning text is a helper');
  const wired = await discover({ 'r.py': `${draft}\nfrom trl import GRPOTrainer\nGRPOTrainer(model="m", reward_funcs=[qmark])\n` });
  assert.ok(byName(wired, 'qmark').problems.some((p) => p.severity === 'error' && p.code === 'GRPO103'));
  const usedElsewhere = await discover({
    'r.py': draft,
    'use.py': 'from r import qmark\ndef total(cs):\n    return sum(qmark(c) for c in cs)\n',
  });
  assert.ok(!usedElsewhere.rewards.some((r) => r.name === 'qmark'), 'called as a helper from another module');
});

test('editing, creating or deleting the data file a trainer or config reads redoes its verdicts, and only theirs', async () => {
  const dir = workspace({
    'train.py': [
      'from datasets import load_dataset',
      'from trl import GRPOTrainer',
      '',
      'def accuracy_reward(completions, answer, **kwargs):',
      '    return [float(a in c) for c, a in zip(completions, answer)]',
      '',
      'GRPOTrainer(model="m", reward_funcs=[accuracy_reward], train_dataset=load_dataset("json", data_files="qa.jsonl", split="train"))',
      '',
    ].join('\n'),
    'other.py': 'def other_reward(completions, **kwargs):\n    return [0.0 for c in completions]\n',
    'runs/r1/events.jsonl': '{"type": "start"}\n',
  });
  const index = await makeIndex(dir);
  const verdict = () => codes(byName(index.report(), 'accuracy_reward'));
  assert.deepEqual(verdict(), ['GRPO121'], 'qa.jsonl does not exist yet: the column is unknown');
  const data = path.join(dir, 'qa.jsonl');
  fs.writeFileSync(data, QA);
  assert.deepEqual(index.dataChanged(data), [path.join(dir, 'train.py')], 'created: the trainer that looked for it');
  assert.deepEqual(verdict(), ['GRPO104'], 'now known: answer is not a column');
  fs.writeFileSync(data, QA.replace(/solution/g, 'answer'));
  index.dataChanged(data);
  assert.deepEqual(verdict(), [], 'the column was renamed in the data');
  assert.deepEqual(index.dataChanged(path.join(dir, 'runs', 'r1', 'events.jsonl')), [], 'a run writing its events checks nothing again');
});
