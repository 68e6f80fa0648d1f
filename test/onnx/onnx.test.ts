// ONNX sampling and reward models against Python references on the same weights. Run by
// `npm test` (suite onnx), which first builds the tiny models (test/python/onnx_fixtures.py).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { OnnxCausalLm } from '../../src/sampling/core/causalLm';
import { OnnxRewardModel } from '../../src/scoring/rewardModel';
import { RewardModelThread } from '../../src/scoring/rewardModelThread';
import { promptIds } from '../../src/sampling/core/sampleJob';
import { SeededRandom } from '../../src/sampling/core/sampling';

const repo = path.resolve(__dirname, '..', '..');
const generated = path.join(repo, 'test', 'fixtures', 'generated');
const LM = path.join(generated, 'tiny-lm-onnx');
const LM_NO_CACHE = path.join(generated, 'tiny-lm-onnx-nocache');
const RM = path.join(generated, 'tiny-rm-onnx');
const python = process.env.GRPO_TEST_PYTHON ?? path.join(repo, '.venv-test', 'bin', 'python');
const cli = path.join(repo, 'dist', 'cli.js');

function pythonJson(args: string[]): any {
  const result = spawnSync(python, [path.join(repo, 'test', 'python', 'onnx_reference.py'), ...args], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout);
}

function grpoStudio(args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
}

function tempDir(name = 'onnx'): string {
  // A space and Japanese in the path, as users have.
  return fs.mkdtempSync(path.join(os.tmpdir(), `grpo ${name} 試験-`));
}

const PROMPTS = ['富士山の高さは？絵文字で答えて 😊', 'What is two plus two?'];

for (const [label, dir] of [
  ['with KV cache', LM],
  ['without KV cache', LM_NO_CACHE],
] as const) {
  test(`greedy decoding ${label} gives the token ids of the Python onnxruntime loop, plain and chat prompts`, async () => {
    const lm = await OnnxCausalLm.load(dir);
    assert.equal(lm.usesKvCache, dir === LM);
    try {
      for (const prompt of PROMPTS) {
        for (const chat of [false, true]) {
          const reference = pythonJson([
            'generate',
            '--model',
            dir,
            '--prompt',
            prompt,
            '--num-generations',
            '2',
            '--max-new-tokens',
            '24',
            ...(chat ? ['--chat'] : []),
          ]);
          const ids = promptIds(lm, chat ? [{ role: 'user', content: prompt }] : prompt);
          assert.deepEqual(ids, reference.prompt_ids, 'the same prompt tokens (Tokenizers.js + Jinja vs transformers)');
          const generations = await lm.generate(ids, {
            numGenerations: 2,
            maxNewTokens: 24,
            temperature: 0,
            topP: 1,
            topK: 0,
            random: new SeededRandom(0),
          });
          assert.deepEqual(
            generations.map((g) => (g.eos === undefined ? g.ids : [...g.ids, g.eos])),
            reference.completion_ids,
          );
          assert.deepEqual(
            generations.map((g) => lm.tokenizer.decode(g.ids)),
            reference.completions,
          );
        }
      }
    } finally {
      await lm.release();
    }
  });
}

test('prompts of different lengths decoded as one left-padded batch give each prompt’s own greedy ids', async () => {
  const lm = await OnnxCausalLm.load(LM);
  try {
    const texts = [...PROMPTS, 'A much longer prompt about rewards, groups and advantages, to pad the others: '];
    const prompts = texts.map((text) => promptIds(lm, [{ role: 'user', content: text }]));
    assert.ok(new Set(prompts.map((ids) => ids.length)).size === prompts.length, 'lengths differ');
    const greedy = { numGenerations: 2, maxNewTokens: 24, temperature: 0, topP: 1, topK: 0, random: new SeededRandom(0) };
    const batched = await lm.generateBatch(prompts, greedy);
    assert.equal(batched.length, prompts.length);
    for (const [p, ids] of prompts.entries()) {
      const reference = pythonJson([
        'generate',
        '--model',
        LM,
        '--prompt',
        texts[p],
        '--chat',
        '--num-generations',
        '2',
        '--max-new-tokens',
        '24',
      ]);
      assert.deepEqual(ids, reference.prompt_ids);
      assert.deepEqual(
        batched[p].map((g) => (g.eos === undefined ? g.ids : [...g.ids, g.eos])),
        reference.completion_ids,
        `prompt ${p} (${ids.length} tokens) in the batch`,
      );
    }
  } finally {
    await lm.release();
  }
});

test('the reward model scores equal PyTorch logits[:, 0] to 1e-4, plain and chat-templated', async () => {
  const rm = await OnnxRewardModel.load(RM);
  try {
    assert.equal(rm.name, 'tiny-rm-onnx');
    const samples = [
      { prompt: '富士山の高さは？', completion: '3776 m です 🗻🎉' },
      { prompt: 'Hi', completion: '!' },
      { prompt: [{ role: 'user', content: '猫は好き？' }], completion: [{ role: 'assistant', content: 'はい 🐱🐱🐱🐱' }] },
      {
        prompt: 'A longer prompt about reinforcement learning and reward functions, ',
        completion: 'with a completion that is longer still so the batch is right-padded.',
      },
    ];
    const texts = samples.map((s) => rm.textOf(s));
    assert.match(texts[2], /<\|im_start\|>user\n猫は好き？<\|im_end\|>\n<\|im_start\|>assistant\nはい 🐱🐱🐱🐱<\|im_end\|>\n/);
    const reference = pythonJson(['reward', '--model', RM, ...texts.flatMap((t) => ['--text', t])]);
    const scores = await rm.score(samples);
    scores.forEach((score, i) =>
      assert.ok(Math.abs(score - reference.torch[i]) < 1e-4, `sample ${i}: ${score} vs torch ${reference.torch[i]}`),
    );
    assert.ok(new Set(scores.map((s) => s.toFixed(6))).size > 1, 'different texts, different scores');
  } finally {
    await rm.release();
  }
});

test('grpo-studio sample: G lines per prompt in order with the other columns; a seed reproduces, another differs', () => {
  const dir = tempDir();
  const prompts = path.join(dir, 'prompts.jsonl');
  fs.writeFileSync(
    prompts,
    [
      JSON.stringify({ prompt: '富士山の高さは？', answer: '3776', id: 1 }),
      'not json',
      JSON.stringify({ prompt: [{ role: 'user', content: 'こんにちは😊' }], id: 2 }),
      '',
    ].join('\n'),
  );
  const sample = (seed: string, out: string) =>
    grpoStudio([
      'sample',
      '--model',
      LM,
      '--prompts',
      prompts,
      '--num-generations',
      '3',
      '--max-new-tokens',
      '16',
      '--temperature',
      '0.9',
      '--top-p',
      '0.95',
      '--seed',
      seed,
      '--out',
      out,
    ]);
  const first = sample('7', path.join(dir, 'a.jsonl'));
  assert.equal(first.status, 0, first.stderr);
  assert.equal(first.stdout.trim(), path.join(dir, 'a.jsonl'));
  assert.match(first.stderr, /prompts\.jsonl:2: skipped: not valid JSON/);
  assert.match(first.stderr, /2\/2 prompts/);
  const lines = fs
    .readFileSync(path.join(dir, 'a.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, 6);
  assert.deepEqual(
    lines.map((l) => l.id),
    [1, 1, 1, 2, 2, 2],
  );
  assert.deepEqual(Object.keys(lines[0]), ['prompt', 'completion', 'answer', 'id']);
  assert.equal(typeof lines[0].completion, 'string');
  assert.deepEqual(lines[3].prompt, [{ role: 'user', content: 'こんにちは😊' }]);
  assert.equal(lines[3].completion[0].role, 'assistant', 'a chat prompt gets an assistant message, as TRL');
  assert.equal(sample('7', path.join(dir, 'b.jsonl')).status, 0);
  assert.equal(
    fs.readFileSync(path.join(dir, 'b.jsonl'), 'utf8'),
    fs.readFileSync(path.join(dir, 'a.jsonl'), 'utf8'),
    'same seed, same file',
  );
  assert.equal(sample('8', path.join(dir, 'c.jsonl')).status, 0);
  assert.notEqual(
    fs.readFileSync(path.join(dir, 'c.jsonl'), 'utf8'),
    fs.readFileSync(path.join(dir, 'a.jsonl'), 'utf8'),
    'another seed, other completions',
  );
});

test('an incomplete or corrupt model folder is an error that names the file', () => {
  const dir = tempDir('broken');
  const prompts = path.join(dir, 'p.jsonl');
  fs.writeFileSync(prompts, '{"prompt": "x"}\n');
  const broken = (name: string, damage: (model: string) => void) => {
    const model = path.join(dir, name);
    fs.cpSync(LM, model, { recursive: true });
    damage(model);
    return grpoStudio([
      'sample',
      '--model',
      model,
      '--prompts',
      prompts,
      '--num-generations',
      '1',
      '--out',
      path.join(dir, `${name}.jsonl`),
    ]);
  };
  const noTokenizer = broken('no-tokenizer', (m) => fs.rmSync(path.join(m, 'tokenizer.json')));
  assert.equal(noTokenizer.status, 1);
  assert.match(noTokenizer.stderr, /incomplete: tokenizer\.json is missing/);
  const noGraph = broken('no-graph', (m) => fs.rmSync(path.join(m, 'onnx'), { recursive: true }));
  assert.match(noGraph.stderr, /incomplete: onnx\/model\.onnx is missing/);
  const truncated = broken('truncated', (m) => {
    const file = path.join(m, 'onnx', 'model.onnx');
    fs.truncateSync(file, Math.floor(fs.statSync(file).size / 3));
  });
  assert.equal(truncated.status, 1);
  assert.match(truncated.stderr, /model\.onnx cannot be loaded by onnxruntime .*corrupt or incomplete/);
  const badConfig = broken('bad-config', (m) => fs.writeFileSync(path.join(m, 'config.json'), '{"vocab_size": '));
  assert.match(badConfig.stderr, /config\.json is not valid JSON/);
  const missing = grpoStudio([
    'sample',
    '--model',
    path.join(dir, 'nowhere'),
    '--prompts',
    prompts,
    '--num-generations',
    '1',
    '--out',
    path.join(dir, 'x.jsonl'),
  ]);
  assert.match(missing.stderr, /model folder not found/);
});

test('grpo-studio score takes an ONNX reward model folder: its scores and GRPO advantages, no Python', () => {
  const dir = tempDir('score');
  const samples = path.join(dir, 'qa.samples.jsonl');
  fs.writeFileSync(
    samples,
    [
      { prompt: '富士山の高さは？', completion: '3776 m 🗻' },
      { prompt: '富士山の高さは？', completion: 'わかりません' },
    ]
      .map((s) => JSON.stringify(s))
      .join('\n'),
  );
  // A Python that does not exist: only the reward model is scored, so none is started.
  const result = grpoStudio(['score', '--rewards', RM, '--samples', samples, '--python', path.join(dir, 'no-python'), '--json']);
  assert.equal(result.status, 0, result.stderr);
  const report = JSON.parse(result.stdout);
  assert.deepEqual(report.functions, ['tiny-rm-onnx']);
  const reference = pythonJson(['reward', '--model', RM, '--text', '富士山の高さは？3776 m 🗻', '--text', '富士山の高さは？わかりません']);
  report.samples.forEach((s: { rewards: Record<string, number> }, i: number) =>
    assert.ok(Math.abs(s.rewards['tiny-rm-onnx'] - reference.torch[i]) < 1e-4),
  );
  assert.ok(Math.abs(report.samples[0].advantage + report.samples[1].advantage) < 1e-9, 'two samples: advantages ±');
});

test('edge cases of real exports: an immediate EOS is an empty completion; GPT-2 config names; a broken tokenizer is named', () => {
  const dir = tempDir('edge');
  const prompts = path.join(dir, 'p.jsonl');
  fs.writeFileSync(prompts, '{"prompt": "猫が好きです 🐱", "id": 7}\n');
  const variant = (name: string, edit: (model: string) => void) => {
    const model = path.join(dir, name);
    fs.cpSync(LM_NO_CACHE, model, { recursive: true });
    edit(model);
    return model;
  };
  const json = (file: string, change: (value: any) => void) => {
    const value = JSON.parse(fs.readFileSync(file, 'utf8'));
    change(value);
    fs.writeFileSync(file, JSON.stringify(value));
  };
  // Every token ends the sequence: each completion is empty, as TRL would decode it.
  const allEos = variant('all-eos', (m) =>
    json(path.join(m, 'generation_config.json'), (g) => {
      g.eos_token_id = Array.from({ length: 773 }, (_, i) => i);
    }),
  );
  const out = path.join(dir, 'eos.jsonl');
  const eos = grpoStudio(['sample', '--model', allEos, '--prompts', prompts, '--num-generations', '2', '--out', out]);
  assert.equal(eos.status, 0, eos.stderr);
  assert.deepEqual(
    fs
      .readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l)),
    [
      { prompt: '猫が好きです 🐱', completion: '', id: 7 },
      { prompt: '猫が好きです 🐱', completion: '', id: 7 },
    ],
  );
  // GPT-2-style config keys, and no KV cache: nothing about heads is needed.
  const gpt2 = variant('gpt2-names', (m) =>
    json(path.join(m, 'config.json'), (c) => {
      c.n_head = c.num_attention_heads;
      c.n_embd = c.hidden_size;
      delete c.num_attention_heads;
      delete c.hidden_size;
      delete c.num_key_value_heads;
      delete c.head_dim;
    }),
  );
  const plain = grpoStudio([
    'sample',
    '--model',
    gpt2,
    '--prompts',
    prompts,
    '--num-generations',
    '1',
    '--max-new-tokens',
    '4',
    '--out',
    path.join(dir, 'gpt2.jsonl'),
  ]);
  assert.equal(plain.status, 0, plain.stderr);
  const badTokenizer = variant('bad-tokenizer', (m) => fs.writeFileSync(path.join(m, 'tokenizer.json'), '{"version": "1.0"}'));
  const bad = grpoStudio([
    'sample',
    '--model',
    badTokenizer,
    '--prompts',
    prompts,
    '--num-generations',
    '1',
    '--out',
    path.join(dir, 'bad.jsonl'),
  ]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /tokenizer\.json cannot be read as a tokenizer/);
  assert.ok(!fs.existsSync(path.join(dir, 'bad.jsonl')), 'no file from a job that never finished a group');
  // A reward model is an ONNX folder with logits too, [batch, labels]: not something to sample from.
  const rewardModel = grpoStudio([
    'sample',
    '--model',
    RM,
    '--prompts',
    prompts,
    '--num-generations',
    '1',
    '--out',
    path.join(dir, 'rm.jsonl'),
  ]);
  assert.equal(rewardModel.status, 1);
  assert.match(rewardModel.stderr, /is not a causal LM: its logits are \[1, 1\]/);
  // Paths that cannot work are usage errors of one line.
  for (const [args, message] of [
    [['--prompts', dir, '--out', path.join(dir, 'x.jsonl')], /--prompts .* is a folder/],
    [['--prompts', prompts, '--out', path.join(prompts, 'x.jsonl')], /a file is in the way/],
    [['--prompts', prompts, '--out', dir], /--out .* is a folder; give a file name/],
  ] as const) {
    const result = grpoStudio(['sample', '--model', LM, '--num-generations', '1', ...args]);
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, message);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  }
  const unknown = grpoStudio(['sample', '--modle', LM]);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /Unknown option '--modle'/);
  assert.doesNotMatch(unknown.stderr, /\n\s+at /, 'no stack trace');
});

test('previews score reward models on a worker thread: the same scores, a broken folder named, the thread recovers', async () => {
  const thread = new RewardModelThread(path.join(repo, 'dist'));
  try {
    const samples = [
      { prompt: '富士山の高さは？', completion: '3776 m 🗻', columns: {} },
      { prompt: 'Hi', completion: '!', columns: {} },
    ];
    const inProcess = await OnnxRewardModel.load(RM);
    const expected = await inProcess.score(samples);
    await inProcess.release();
    assert.deepEqual(await thread.reward(RM).model.score(samples), expected);
    const broken = tempDir('rm');
    fs.cpSync(RM, broken, { recursive: true });
    fs.rmSync(path.join(broken, 'tokenizer_config.json'));
    await assert.rejects(
      thread.reward(broken).model.score(samples),
      (error: Error) => error.name === 'ModelFolderError' && /tokenizer_config\.json is missing/.test(error.message),
    );
    thread.releaseAll();
    assert.deepEqual(await thread.reward(RM).model.score(samples), expected, 'loaded again after a release');
  } finally {
    thread.dispose();
  }
});

test('Ctrl+C while sampling keeps the groups already written, whole, and exits 130', async () => {
  const dir = tempDir('cancel');
  const prompts = path.join(dir, 'p.jsonl');
  fs.writeFileSync(prompts, Array.from({ length: 400 }, (_, i) => JSON.stringify({ prompt: `質問 ${i}: 富士山は？`, i })).join('\n'));
  const out = path.join(dir, 'out.jsonl');
  const { spawn } = await import('node:child_process');
  const child = spawn(
    process.execPath,
    [cli, 'sample', '--model', LM_NO_CACHE, '--prompts', prompts, '--num-generations', '4', '--max-new-tokens', '64', '--out', out],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  // Interrupt once a few groups are on disk.
  while (!fs.existsSync(out) || fs.readFileSync(out, 'utf8').split('\n').length < 9) await new Promise((r) => setTimeout(r, 20));
  child.kill('SIGINT');
  const code = await new Promise((resolve) => child.on('exit', resolve));
  assert.equal(code, 130, stderr);
  assert.match(stderr, /cancelled; the finished groups are in/);
  const lines = fs
    .readFileSync(out, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  assert.ok(lines.length >= 8 && lines.length < 1600 && lines.length % 4 === 0, `${lines.length} lines: whole groups only`);
  assert.deepEqual(
    lines.map((l) => l.i),
    lines.map((_, k) => Math.floor(k / 4)),
  );
});

test(
  'a chat template that never finishes is stopped after its time limit, and Ctrl+C ends sample at once',
  { timeout: 60_000 },
  async () => {
    const dir = tempDir('template');
    const model = path.join(dir, 'looping model');
    fs.cpSync(LM, model, { recursive: true });
    const configFile = path.join(model, 'tokenizer_config.json');
    const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
    config.chat_template = '{% for i in range(100000) %}{% for j in range(100000) %}{% set k = j %}{% endfor %}{% endfor %}';
    fs.writeFileSync(configFile, JSON.stringify(config));
    const prompts = path.join(dir, 'chat.jsonl');
    fs.writeFileSync(prompts, `${JSON.stringify({ prompt: [{ role: 'user', content: '富士山は？' }] })}\n`);
    const { spawn } = await import('node:child_process');
    const start = (out: string) => {
      const child = spawn(
        process.execPath,
        [cli, 'sample', '--model', model, '--prompts', prompts, '--num-generations', '2', '--out', out],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += chunk));
      const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
      return { child, exit, stderr: () => stderr };
    };

    let started = Date.now();
    const limited = start(path.join(dir, 'a.jsonl'));
    assert.equal(await limited.exit, 1, limited.stderr());
    assert.match(limited.stderr(), /chat template of .*looping model did not finish rendering prompt 1 within 10 s/);
    assert.ok(Date.now() - started < 30_000, 'ended by the time limit');

    const interrupted = start(path.join(dir, 'b.jsonl'));
    await new Promise((resolve) => setTimeout(resolve, 3000)); // loaded, inside the template
    started = Date.now();
    interrupted.child.kill('SIGINT');
    assert.equal(await interrupted.exit, 130, interrupted.stderr());
    assert.ok(Date.now() - started < 5000, `Ctrl+C ended it in ${Date.now() - started} ms`);
  },
);
