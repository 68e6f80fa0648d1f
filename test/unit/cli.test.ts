import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { repoRoot, workspace } from './helpers';

const cli = path.join(repoRoot, 'dist', 'cli.js');

function check(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const result = spawnSync(process.execPath, [cli, 'check', ...args], {
    encoding: 'utf8',
    cwd: options.cwd,
    env: { ...process.env, LANG: 'C.UTF-8', LC_ALL: '', ...options.env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const FILES = {
  'rewards.py':
    'def good_reward(completions, **kwargs):\n    return [0.0 for c in completions]\n\n\nasync def bad_reward(prompts, completions):\n    return [0.0 for c in completions]\n',
  'clean.py': 'def fine_reward(completions, **kwargs):\n    return [1.0 for c in completions]\n',
  'scorer.py': 'class Scorer:\n    def __call__(self, completions, **kwargs):\n        return [0.0 for c in completions]\n',
  'train.py': 'from scorer import Scorer\nfrom trl import GRPOTrainer\nGRPOTrainer(model="m", reward_funcs=[Scorer()])\n',
};

test('check --json prints the documented object and exits 1 on errors', () => {
  const dir = workspace(FILES, 'cli 日本語 space');
  const { code, stdout } = check(['--json', '.'], { cwd: dir });
  assert.equal(code, 1);
  const json = JSON.parse(stdout);
  assert.deepEqual(Object.keys(json), ['trl', 'functions']);
  const bad = json.functions.find((f: { name: string }) => f.name === 'bad_reward');
  assert.deepEqual(Object.keys(bad), ['name', 'file', 'line', 'kind', 'async', 'problems']);
  assert.deepEqual(
    { ...bad, problems: undefined },
    { name: 'bad_reward', file: 'rewards.py', line: 5, kind: 'function', async: true, problems: undefined },
  );
  assert.deepEqual(
    bad.problems.map((p: { severity: string; code: string; line: number }) => [p.severity, p.code, p.line]),
    [['error', 'GRPO101', 5]],
  );
  assert.deepEqual(Object.keys(bad.problems[0]), ['severity', 'code', 'message', 'line']);
  const scorer = json.functions.find((f: { name: string }) => f.name === 'Scorer');
  assert.equal(scorer.kind, 'class');
  assert.equal(scorer.file, 'scorer.py');
});

test('check exits 0 on clean files and limits the report to the files named', () => {
  const dir = workspace(FILES);
  const clean = check([path.join(dir, 'clean.py'), '--json']);
  assert.equal(clean.code, 0);
  assert.deepEqual(
    JSON.parse(clean.stdout).functions.map((f: { name: string }) => f.name),
    ['fine_reward'],
  );
  const viaTrainer = check(['train.py', '--json'], { cwd: dir });
  assert.deepEqual(
    JSON.parse(viaTrainer.stdout).functions.map((f: { name: string }) => f.name),
    ['Scorer'],
    'rewards wired from the named file',
  );
});

test('check prints readable text, in Japanese when LANG says so', () => {
  const dir = workspace(FILES);
  const english = check(['rewards.py'], { cwd: dir });
  assert.match(english.stdout, /rewards\.py:5:21: error GRPO101 GRPOTrainer also passes/);
  assert.match(english.stdout, /2 reward function\(s\), 1 error\(s\), 0 warning\(s\)/);
  const japanese = check(['rewards.py'], { cwd: dir, env: { LANG: 'ja_JP.UTF-8' } });
  assert.match(japanese.stdout, /GRPO101 GRPOTrainer は completion_ids=, trainer_state=, log_extra=, log_metric= も渡します/);
});

test('bad usage exits 2 with a message', () => {
  assert.equal(check(['/no/such/place']).code, 2);
  const format = check(['--format', 'chat', '.']);
  assert.equal(format.code, 2);
  assert.match(format.stderr, /--format must be auto, standard or conversational/);
});

function score(args: string[], cwd: string) {
  const result = spawnSync(process.execPath, [cli, 'score', '--python', 'python3', ...args], { encoding: 'utf8', cwd });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const SCORE_FILES = {
  'rewards.py': [
    'def emoji_reward(completions, **kwargs):',
    '    return [float(min(sum(1 for ch in c if ord(ch) >= 0x1F300), 4)) for c in completions]',
    '',
    'def length_reward(completions, **kwargs):',
    '    return [float(len(c)) for c in completions]',
    '',
    'def broken_reward(completions, **kwargs):',
    '    return [1 / 0 for c in completions]',
    '',
    'def helper(x):',
    '    return x',
  ].join('\n'),
  'qa.samples.jsonl': [
    '{"prompt": "首都は？", "completion": "東京🗼"}',
    '{"prompt": "首都は？", "completion": "東京です"}',
    '{oops',
    '{"prompt": "山は？", "completions": ["富士山", "富士山"]}',
  ].join('\n'),
};

test('score --json prints the documented object, samples in file order', () => {
  const dir = workspace(SCORE_FILES);
  const { code, stdout, stderr } = score(
    ['--rewards', 'rewards.py::emoji_reward,length_reward', '--samples', 'qa.samples.jsonl', '--weights', '1,0.5', '--json'],
    dir,
  );
  assert.equal(code, 0, stderr);
  assert.match(stderr, /qa\.samples\.jsonl:3: skipped: not valid JSON/);
  const json = JSON.parse(stdout);
  assert.deepEqual(Object.keys(json), ['functions', 'samples', 'groups']);
  assert.deepEqual(json.functions, ['emoji_reward', 'length_reward']);
  assert.deepEqual(
    json.samples.map((s: { completion: string }) => s.completion),
    ['東京🗼', '東京です', '富士山', '富士山'],
  );
  assert.deepEqual(Object.keys(json.samples[0]), ['prompt', 'completion', 'group', 'rewards', 'total', 'advantage']);
  assert.deepEqual(json.samples[0].rewards, { emoji_reward: 1, length_reward: 3 });
  assert.equal(json.samples[0].total, 2.5);
  assert.deepEqual(
    json.samples.map((s: { group: number }) => s.group),
    [0, 0, 1, 1],
  );
  assert.deepEqual(Object.keys(json.groups[0]), ['mean', 'std', 'zero_std']);
  assert.deepEqual(
    json.groups.map((g: { zero_std: boolean }) => g.zero_std),
    [false, true],
  );
  assert.deepEqual(
    json.samples.slice(2).map((s: { advantage: number }) => s.advantage),
    [0, 0],
  );
});

test('score reports a raising reward with its line and exits 1; bad weights exit 2', () => {
  const dir = workspace(SCORE_FILES);
  const failing = score(['--rewards', 'rewards.py', '--samples', 'qa.samples.jsonl'], dir);
  assert.equal(failing.code, 1);
  assert.match(failing.stderr, /broken_reward: ZeroDivisionError: division by zero \(.*rewards\.py:8\)/);
  assert.match(failing.stdout, /no learning signal/);
  assert.doesNotMatch(failing.stdout, /helper/);
  const weights = score(['--rewards', 'rewards.py::emoji_reward', '--samples', 'qa.samples.jsonl', '--weights', '1,2'], dir);
  assert.equal(weights.code, 2);
  assert.match(weights.stderr, /--weights needs 1 number/);
});

test('numeric options: a value that is not a number, or out of range, is a usage error naming the option', () => {
  const dir = workspace(SCORE_FILES);
  for (const bad of ['abc', '0', '-5', '3000000', '1e400', '']) {
    const { code, stderr } = score(['--rewards', 'rewards.py::emoji_reward', '--samples', 'qa.samples.jsonl', `--timeout=${bad}`], dir);
    assert.equal(code, 2, `--timeout ${bad}: ${stderr}`);
    assert.match(stderr, /--timeout must be a number of seconds above 0/);
    assert.doesNotMatch(stderr, /NaN|TimeoutOverflowWarning/);
  }
  for (const bad of ['abc', '0', '1.5']) {
    const { code, stderr } = check([`--max-file-kb=${bad}`, '.'], { cwd: dir });
    assert.equal(code, 2, `--max-file-kb ${bad}: ${stderr}`);
    assert.match(stderr, /--max-file-kb must be a positive integer/);
  }
});

function cliRun(command: string, args: string[], cwd: string) {
  const result = spawnSync(process.execPath, [cli, command, ...args], {
    encoding: 'utf8',
    cwd,
    env: { ...process.env, LANG: 'C.UTF-8', LC_ALL: '' },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('sample and report never write over their input, nor an existing file without --force', () => {
  const prompts = '{"prompt": "富士山は？"}\n';
  const events = '{"event":"start","time":1,"config":{}}\n{"event":"log","time":2,"step":1,"metrics":{"reward":1}}\n';
  const dir = workspace({ 'p.jsonl': prompts, 'old.jsonl': 'keep me\n', 'run/events.jsonl': events });
  const sample = (out: string, ...extra: string[]) =>
    cliRun('sample', ['--model', 'no-model', '--prompts', 'p.jsonl', '--num-generations', '2', '--out', out, ...extra], dir);
  let result = sample('p.jsonl');
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /--out p\.jsonl is the --prompts file/);
  result = sample('./sub/../p.jsonl', '--force');
  assert.equal(result.code, 2, 'not even with --force, and not through another spelling of the path');
  result = sample('old.jsonl');
  assert.equal(result.code, 2);
  assert.match(result.stderr, /old\.jsonl exists: add --force/);
  assert.equal(fs.readFileSync(path.join(dir, 'p.jsonl'), 'utf8'), prompts);
  assert.equal(fs.readFileSync(path.join(dir, 'old.jsonl'), 'utf8'), 'keep me\n');

  result = cliRun('report', ['run', '--out', 'run/events.jsonl'], dir);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /one of the files of RUN_DIR/);
  assert.equal(fs.readFileSync(path.join(dir, 'run', 'events.jsonl'), 'utf8'), events, "the run's history is kept");
  assert.equal(cliRun('report', ['run', '--out', 'shared.html'], dir).code, 0);
  assert.equal(cliRun('report', ['run', '--out', 'shared.html'], dir).code, 2, 'an existing report needs --force');
  assert.equal(cliRun('report', ['run', '--out', 'shared.html', '--force'], dir).code, 0);
  assert.equal(cliRun('report', ['run'], dir).code, 0, "the run's own report.html is written again");
  assert.equal(cliRun('report', ['run'], dir).code, 0);
});

const REWARD = 'def deep_reward(completions, **kwargs):\n    return [0.0 for c in completions]\n\n';

test('check: a file the checker cannot walk is skipped with its name and why; every other file is still checked', () => {
  const sjis = Buffer.concat([
    Buffer.from('# '),
    Buffer.from([0x95, 0xf1, 0x8f, 0x56]),
    Buffer.from('\ndef sjis_reward(completions, **kwargs):\n    return [0.0 for c in completions]\n'),
  ]);
  const dir = workspace({
    'good.py': 'def bad_reward(prompts, completions):\n    return [0.0 for c in completions]\n',
    // Each also defines a reward, so the text pre-filter does not leave it out unparsed.
    'parens.py': `${REWARD}x = ${'('.repeat(4000)}1${')'.repeat(4000)}\n`,
    'defs.py': `${REWARD}${Array.from({ length: 1000 }, (_, i) => `${' '.repeat(i)}def f${i}():`).join('\n')}\n${' '.repeat(1000)}pass\n`,
    'brackets.py': `${REWARD}x = ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`,
    'chain.py': `${REWARD}x = ${Array.from({ length: 200_000 }, () => '1').join(' + ')}\n`,
    'sjis.py': sjis,
  });
  const { code, stdout, stderr } = check(['--json', '.'], { cwd: dir });
  assert.equal(code, 1, stderr);
  const json = JSON.parse(stdout);
  const found = json.functions.map((f: { file: string; name: string }) => `${f.file}:${f.name}`);
  assert.ok(found.includes('good.py:bad_reward') && found.includes('sjis.py:sjis_reward'), `the other files are still checked: ${found}`);
  assert.doesNotMatch(stderr, /Maximum call stack|RangeError/);
  // Those the walk cannot take are named; the others (a long flat chain) are checked like any file.
  for (const file of ['parens.py', 'brackets.py']) {
    assert.match(stderr, new RegExp(`skipped ${file.replace('.', '\\.')}: nested too deeply`), `${file}: ${stderr}`);
  }
  assert.ok(found.includes('chain.py:deep_reward'), 'a 200,000-term sum is walked without recursion trouble');
  assert.match(stderr, /check: sjis\.py: not UTF-8 \(looks like Shift_JIS\) and no coding line: Python refuses to import it/);
});

test('check: a source too large for the parser is refused before it is parsed, whatever --max-file-kb says', () => {
  const dir = workspace({
    'big.py': `${'x = 1\n'.repeat(3_500_000)}def r(completions, **kwargs):\n    return [0.0 for c in completions]\n`,
    'ok.py': 'def ok_reward(completions, **kwargs):\n    return [1.0 for c in completions]\n',
  });
  const { code, stdout, stderr } = check(['--json', '--max-file-kb=100000', '.'], { cwd: dir });
  assert.equal(code, 0, stderr);
  assert.match(stderr, /skipped big\.py: 20 MB: too large for the Python parser \(the limit is 16 MB/);
  assert.deepEqual(
    JSON.parse(stdout).functions.map((f: { name: string }) => f.name),
    ['ok_reward'],
  );
});

test('score: a samples file in another encoding says which and how to convert; a BOM does not drop line 1; a folder is a usage error', () => {
  const rewards = 'def one(completions, **kwargs):\n    return [1.0 for c in completions]\n';
  const line = '{"prompt": "富士山は？", "completion": "高い"}\n';
  const sjis = Buffer.from([
    0x7b, 0x22, 0x70, 0x72, 0x6f, 0x6d, 0x70, 0x74, 0x22, 0x3a, 0x22, 0x95, 0xf1, 0x22, 0x2c, 0x22, 0x63, 0x6f, 0x6d, 0x70, 0x6c, 0x65,
    0x74, 0x69, 0x6f, 0x6e, 0x22, 0x3a, 0x22, 0x8f, 0x56, 0x22, 0x7d, 0x0a,
  ]);
  const dir = workspace({ 'r.py': rewards, 'sjis.samples.jsonl': sjis, 'bom.samples.jsonl': `\uFEFF${line}${line}`, 'folder/x.txt': '' });
  let result = score(['--rewards', 'r.py', '--samples', 'sjis.samples.jsonl', '--json'], dir);
  assert.equal(result.code, 2, result.stderr);
  assert.match(
    result.stderr,
    /sjis\.samples\.jsonl is not UTF-8 \(looks like Shift_JIS\): convert it to UTF-8 \(iconv -f SHIFT_JIS -t UTF-8/,
  );
  result = score(['--rewards', 'r.py', '--samples', 'bom.samples.jsonl', '--json'], dir);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout).samples.length, 2, 'line 1 is a sample too');
  result = score(['--rewards', 'r.py', '--samples', 'folder', '--json'], dir);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--samples folder is a folder/);
  assert.doesNotMatch(result.stderr, /EISDIR|at /);
});
