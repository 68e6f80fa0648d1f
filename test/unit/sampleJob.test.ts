import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePromptsJsonl, promptBatches } from '../../src/sampling/core/sampleJob';
import { argmax, pickToken, SeededRandom } from '../../src/sampling/core/sampling';

const logits = Float32Array.from([1, 3, 2, 3, -1, 0.5]);
const softmax = (values: number[]) => {
  const max = Math.max(...values);
  const exp = values.map((v) => Math.exp(v - max));
  const sum = exp.reduce((a, b) => a + b, 0);
  return exp.map((e) => e / sum);
};

function frequencies(options: { temperature: number; topP: number; topK: number }, draws = 40_000): number[] {
  const random = new SeededRandom(123);
  const counts = new Array(logits.length).fill(0);
  for (let i = 0; i < draws; i++) counts[pickToken(logits, 0, logits.length, options, random)]++;
  return counts.map((c) => c / draws);
}

test('greedy is the first maximum, as torch.argmax; temperature 0 is greedy', () => {
  assert.equal(argmax(logits, 0, logits.length), 1);
  assert.equal(pickToken(logits, 0, logits.length, { temperature: 0, topP: 1, topK: 0 }, new SeededRandom(1)), 1);
  assert.equal(argmax(Float32Array.from([9, 0, 5, 1]), 2, 2), 0, 'an offset row');
});

test('sampling follows softmax(logits / temperature)', () => {
  for (const temperature of [1, 0.5]) {
    const expected = softmax([...logits].map((l) => l / temperature));
    frequencies({ temperature, topP: 1, topK: 0 }).forEach((f, i) =>
      assert.ok(Math.abs(f - expected[i]) < 0.01, `T=${temperature} token ${i}: ${f} vs ${expected[i]}`),
    );
  }
});

test('top-k keeps the k most likely; top-p the smallest set reaching p, after top-k, as transformers', () => {
  const topK = frequencies({ temperature: 1, topP: 1, topK: 3 });
  assert.deepEqual(
    topK.map((f) => f > 0),
    [false, true, true, true, false, false],
  );
  const p = softmax([...logits]);
  // Tokens 1 and 3 hold p[1] + p[3] ≈ 0.63: top_p 0.6 keeps exactly them.
  const nucleus = frequencies({ temperature: 1, topP: 0.6, topK: 0 });
  assert.deepEqual(
    nucleus.map((f) => f > 0),
    [false, true, false, true, false, false],
  );
  assert.ok(Math.abs(nucleus[1] - 0.5) < 0.02);
  // After top_k=3 the kept mass is renormalised: 0.9 of it needs all three.
  const both = frequencies({ temperature: 1, topP: 0.9, topK: 3 });
  assert.deepEqual(
    both.map((f) => f > 0),
    [false, true, true, true, false, false],
  );
  assert.ok(p[1] + p[3] < 0.9 * (p[1] + p[2] + p[3]));
});

test('a large vocabulary with a flat tail: top-p over thresholded candidates equals a full sort', () => {
  const vocab = 50_000;
  const wide = new Float32Array(vocab).fill(-6);
  wide[7] = 8;
  wide[42] = 7.5;
  wide[99] = 7;
  const random = new SeededRandom(5);
  const seen = new Set<number>();
  for (let i = 0; i < 500; i++) seen.add(pickToken(wide, 0, vocab, { temperature: 1, topP: 0.9, topK: 0 }, random));
  const probs = softmax([...wide]);
  const [a, b, c] = [probs[7], probs[42], probs[99]];
  assert.ok(a + b < 0.9 && a + b + c >= 0.9, 'the nucleus is exactly the three peaks');
  assert.deepEqual(
    [...seen].sort((x, y) => x - y),
    [7, 42, 99],
  );
  // With top_p 0.999 the tail is needed: every candidate is sorted, and tail tokens appear.
  const tail = new Set<number>();
  for (let i = 0; i < 200; i++) tail.add(pickToken(wide, 0, vocab, { temperature: 1, topP: 0.999, topK: 0 }, random));
  assert.ok(tail.size > 3);
});

test('the seeded generator repeats for a seed and differs between seeds', () => {
  const a = new SeededRandom(42);
  const b = new SeededRandom(42);
  const c = new SeededRandom(43);
  const xs = Array.from({ length: 100 }, () => a.next());
  assert.deepEqual(
    xs,
    Array.from({ length: 100 }, () => b.next()),
  );
  assert.notDeepEqual(
    xs,
    Array.from({ length: 100 }, () => c.next()),
  );
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  assert.ok(Math.abs(xs.reduce((s, x) => s + x, 0) / xs.length - 0.5) < 0.1);
});

test('prompts files: strings and message lists with columns, every line a prompt; a sample set gives each group prompt once', () => {
  const text = [
    '{"prompt": "富士山は？", "answer": "3776"}',
    '{"prompt": [{"role": "user", "content": "hi 😊"}]}',
    '{"question": "no prompt"}',
    '[1, 2]',
    '{"prompt": "a", "completion": "x", "completions": 2}',
    '{"prompt": "a", "completion": "y"}',
    '{"prompt": "b", "completion": "z"}',
    '{"prompt": ""}',
  ].join('\n');
  const prompts = parsePromptsJsonl(text);
  assert.deepEqual(
    prompts.prompts.map((p) => p.prompt),
    ['富士山は？', [{ role: 'user', content: 'hi 😊' }], 'a', 'a', 'b'],
  );
  assert.deepEqual(prompts.prompts[0].columns, { answer: '3776' });
  assert.deepEqual(
    prompts.prompts[2].columns,
    {},
    "the output line brings its completion: a sample set's completion(s) would be scored instead",
  );
  assert.deepEqual(
    prompts.problems.map((p) => p.line),
    [3, 4, 8],
  );
  assert.equal(prompts.problems[2].message, '"prompt" is empty');
  const set = parsePromptsJsonl(text, { sampleSet: true });
  assert.deepEqual(
    set.prompts.map((p) => p.prompt),
    ['富士山は？', [{ role: 'user', content: 'hi 😊' }], 'a', 'b'],
  );
  assert.deepEqual(set.prompts[2].columns, {});
});

test('prompts files: the other columns go into the output as written (big integers, 1.0, nested values, escapes)', () => {
  const line =
    '{ "id" : 12345678901234567890, "prompt": "猫", "f": 1.0, "completions": [{"a": 1}], "nested": {"a": [1, {"b": "x,}\\"y"}], "c": null}, "s": "é\\u00e9" }';
  const [record] = parsePromptsJsonl(line).prompts;
  assert.equal(record.rawColumns, '"id":12345678901234567890,"f":1.0,"nested":{"a": [1, {"b": "x,}\\"y"}], "c": null},"s":"é\\u00e9"');
  assert.deepEqual(JSON.parse(`{${record.rawColumns}}`), record.columns);
  assert.equal(parsePromptsJsonl('{"prompt": "p"}').prompts[0].rawColumns, '');
});

test('prompts are sampled the first alone, then as many together as fill 32 rows, each once and in order', () => {
  assert.deepEqual(promptBatches(8, 8), [[0], [1, 2, 3, 4], [5, 6, 7]]);
  assert.deepEqual(promptBatches(3, 16), [[0], [1, 2]]);
  assert.deepEqual(promptBatches(3, 64), [[0], [1], [2]], 'a group bigger than a batch goes alone');
  assert.deepEqual(promptBatches(1, 8), [[0]]);
  assert.deepEqual(promptBatches(0, 8), []);
  assert.deepEqual(
    promptBatches(300, 4).flat(),
    Array.from({ length: 300 }, (_, i) => i),
  );
});
