import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { loadPythonParser } from '../../src/discovery/core/parser';
import { runConfigDatasetIssues } from '../../src/training/core/datasetCheck';
import { readDatasetShape } from '../../src/shared/datasetReader';
import { dataFileProblems, preflightIssues } from '../../src/training/core/preflight';
import { english, repoRoot, workspace } from './helpers';

/** An interpreter with every package, on a machine without CUDA. */
const CPU_ENV = {
  python: 'python3',
  versions: { torch: '2', transformers: '5', trl: '1', datasets: '5', accelerate: '1' },
  cuda: false,
  devices: ['cpu'],
  gpuMemory: [],
};

const REWARDS = [
  'def length_reward(completions, **kwargs):',
  '    return [float(len(c)) for c in completions]',
  '',
  'def answer_reward(completions, answer, **kwargs):',
  '    return [float(a in c) for c, a in zip(completions, answer)]',
  '',
].join('\n');

async function check(files: Record<string, string>) {
  const root = workspace({ 'rewards.py': REWARDS, ...files });
  const parser = await loadPythonParser(path.join(repoRoot, 'dist'));
  return runConfigDatasetIssues(path.join(root, 'run.yaml'), { roots: [root], parser, l10n: english });
}

test('a required reward parameter that is not a dataset column stops the run before loading', async () => {
  const issues = await check({
    'run.yaml':
      'model_name_or_path: m\ndataset_name: data/q.jsonl\nreward_funcs:\n  - rewards.py::length_reward\n  - rewards.py::answer_reward\n',
    'data/q.jsonl': '{"prompt": "富士山の高さは？", "solution": "3776"}\n',
  });
  assert.equal(issues.length, 1, JSON.stringify(issues));
  assert.equal(issues[0].severity, 'error');
  assert.match(issues[0].message, /^rewards\.py:4: .*'answer'.*columns: solution/);
});

test('column_mapping renames before the check; a mapped prompt and the needed column pass', async () => {
  const issues = await check({
    'run.yaml':
      'model_name_or_path: m\ndataset_name: q.csv\ncolumn_mapping: {question: prompt, solution: answer}\nreward_funcs: [rewards.py::answer_reward]\n',
    'q.csv': 'question,"solution"\n"富士山の高さは？",3776\n',
  });
  assert.deepEqual(issues, []);
});

test('no prompt column, and a malformed first JSONL line, are errors that say what to do', async () => {
  const noPrompt = await check({
    'run.yaml': 'model_name_or_path: m\ndataset_name: q.jsonl\nreward_funcs: [rewards.py::length_reward]\n',
    'q.jsonl': '\n{"question": "x"}\n',
  });
  assert.equal(noPrompt.length, 1);
  assert.match(noPrompt[0].message, /no 'prompt' column \(columns: question\): rename one with column_mapping/);
  const broken = await check({
    'run.yaml': 'model_name_or_path: m\ndataset_name: q.jsonl\nreward_funcs: [rewards.py::length_reward]\n',
    'q.jsonl': '\n{"prompt": "x",\n',
  });
  assert.match(broken[0].message, /q\.jsonl:2 is not valid JSON/);
});

test('dataset shapes: JSON arrays and column dicts, TSV, message-list prompts as conversational', () => {
  const root = workspace({
    'a.json': '[\n  {"prompt": [{"role": "user", "content": "hi"}], "answer": "x"}\n]',
    'b.json': '{"prompt": ["a", "b"], "answer": ["1", "2"]}',
    'c.tsv': 'prompt\tanswer\nq\ta\n',
  });
  assert.deepEqual(readDatasetShape(path.join(root, 'a.json'), {}), {
    file: path.join(root, 'a.json'),
    columns: ['prompt', 'answer'],
    format: 'conversational',
  });
  assert.deepEqual(readDatasetShape(path.join(root, 'b.json'), {})?.columns, ['prompt', 'answer']);
  assert.equal(readDatasetShape(path.join(root, 'b.json'), {})?.format, 'standard');
  assert.equal(readDatasetShape(path.join(root, 'b.json'), { system_prompt: 'be brief' })?.format, 'conversational');
  assert.deepEqual(readDatasetShape(path.join(root, 'c.tsv'), {})?.columns, ['prompt', 'answer']);
});

test('a hub dataset is left to the runner', async () => {
  const issues = await check({
    'run.yaml': 'model_name_or_path: m\ndataset_name: cl-nagoya/auto-wiki-qa\nreward_funcs: [rewards.py::answer_reward]\n',
  });
  assert.deepEqual(
    issues.map((i) => i.severity),
    ['info'],
  );
});

test('a datasets mixture (path: json, data_files) is checked like dataset_name', async () => {
  const issues = await check({
    'run.yaml':
      'model_name_or_path: m\ndatasets:\n  - path: json\n    data_files: data/q.jsonl\ncolumn_mapping:\n  question: prompt\nreward_funcs: [rewards.answer_reward]\n',
    'data/q.jsonl': '{"question": "富士山の高さは？"}\n',
  });
  assert.equal(issues.length, 1, JSON.stringify(issues));
  assert.match(issues[0].message, /'answer'/);
});

test('pre-flight: a reward model folder without PyTorch weights cannot train (ONNX is for previews)', () => {
  const root = workspace({
    'run.yaml': 'model_name_or_path: m\nreward_funcs:\n  - rm-onnx\n  - rm-torch\n',
    'rm-onnx/config.json': '{}',
    'rm-onnx/onnx/model.onnx': 'x',
    'rm-torch/config.json': '{}',
    'rm-torch/model.safetensors': 'x',
  });
  const errors = preflightIssues(CPU_ENV, path.join(root, 'run.yaml'), path.join(root, 'runs')).filter((i) => i.severity === 'error');
  assert.deepEqual(
    errors.map((e) => e.message.split(' has ')[0]),
    ['reward model rm-onnx'],
  );
});

test("columns are the union of the first records' keys; a first line over a megabyte is read whole", async () => {
  const sparse = await check({
    'run.yaml': 'model_name_or_path: m\ndataset_name: q.jsonl\nreward_funcs: [rewards.py::answer_reward]\n',
    'q.jsonl': '{"prompt": "p"}\n{"prompt": "a", "answer": "2"}\n',
  });
  assert.deepEqual(sparse, [], "datasets fills the first row's answer with None: the column exists");
  const long = await check({
    'run.yaml': 'model_name_or_path: m\ndataset_name: q.jsonl\nreward_funcs: [rewards.py::answer_reward]\n',
    'q.jsonl': `${JSON.stringify({ prompt: 'x'.repeat(3 << 20), answer: '1' })}\n{"prompt": "b", "answer": "2"}\n`,
  });
  assert.deepEqual(long, []);
});

test("pre-flight: relative dataset paths are read from the workspace folder first, then next to the config (the runner's order)", () => {
  const root = workspace({
    'configs/run.yaml': 'model_name_or_path: m\ndataset_name: data/train.jsonl\nreward_funcs: [rewards.length_reward]\n',
    'configs/near.yaml': 'model_name_or_path: m\ndataset_name: near.jsonl\nreward_funcs: [rewards.length_reward]\n',
    'configs/near.jsonl': '{"prompt": "p"}\n',
    'configs/missing.yaml': 'model_name_or_path: m\ndataset_name: data/none.jsonl\nreward_funcs: [rewards.length_reward]\n',
    'data/train.jsonl': '{"prompt": "p"}\n',
  });
  const errors = (config: string) =>
    preflightIssues(CPU_ENV, path.join(root, 'configs', config), path.join(root, 'runs'))
      .filter((i) => i.severity === 'error')
      .map((i) => i.message);
  assert.deepEqual(errors('run.yaml'), []);
  assert.deepEqual(errors('near.yaml'), []);
  const [missing] = errors('missing.yaml');
  assert.match(missing, /data\/none\.jsonl does not exist/);
  assert.ok(missing.includes(`${root}, then ${path.join(root, 'configs')}`), missing);
});

test('pre-flight: a local model folder without tokenizer files is named before loading (it was an IndexError)', () => {
  const root = workspace({
    'run.yaml': 'model_name_or_path: models/bare\ndataset_name: q.jsonl\nreward_funcs: [rewards.length_reward]\n',
    'ok.yaml': 'model_name_or_path: models/full\ndataset_name: q.jsonl\nreward_funcs: [rewards.length_reward]\n',
    'q.jsonl': '{"prompt": "p"}\n',
    'models/bare/config.json': '{}',
    'models/full/config.json': '{}',
    'models/full/tokenizer.json': '{}',
  });
  const errors = (config: string) =>
    preflightIssues(CPU_ENV, path.join(root, config), path.join(root, 'runs'))
      .filter((i) => i.severity === 'error')
      .map((i) => i.message);
  assert.match(errors('run.yaml').join('\n'), /model models\/bare has no tokenizer files/);
  assert.deepEqual(errors('ok.yaml'), []);
});

test('the missing-column message lists the columns the run has after column_mapping, prompt included', async () => {
  const issues = await check({
    'run.yaml':
      'model_name_or_path: m\ndataset_name: q.jsonl\ncolumn_mapping: {question: prompt}\nreward_funcs: [rewards.py::answer_reward]\n',
    'q.jsonl': '{"question": "富士山の高さは？"}\n',
  });
  assert.equal(issues.length, 1, JSON.stringify(issues));
  assert.match(issues[0].message, /'answer' is not a column of q.jsonl \(columns: prompt\)/);
});

test('a data file that is in neither folder the runner reads from is squiggled where the config names it', () => {
  const dir = workspace({ 'data/ok.jsonl': '{"prompt": "x"}\n', 'configs/run.yaml': '' });
  const text = [
    'model_name_or_path: m',
    'dataset_name: data/ok.jsonl',
    'datasets:',
    '  - path: json',
    '    data_files:',
    '      train: [data/ok.jsonl, data/gone.jsonl]',
    '      test: data/typo.jsonl',
    '',
  ].join('\n');
  const problems = dataFileProblems(text, path.join(dir, 'configs', 'run.yaml'), dir, english);
  assert.deepEqual(
    problems.map((p) => [p.range.start.line, p.range.start.character, p.message.split(' (')[0]]),
    [
      [5, 29, 'datasets[0].data_files.train[1]: data/gone.jsonl does not exist'],
      [6, 12, 'datasets[0].data_files.test: data/typo.jsonl does not exist'],
    ],
  );
  assert.ok(
    problems.every((p) => p.severity === 'error' && p.message.includes(path.join(dir, 'configs'))),
    'says where it looked',
  );
});
