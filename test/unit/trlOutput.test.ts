import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { RunEvent } from '../../src/training/core/events';
import { readTrlOutput, readTrlOutputHead, TrlOutputFollower } from '../../src/training/core/trlOutput';
import { workspace } from './helpers';

/** trainer_state.json as transformers writes it: json.dumps(indent=2, sort_keys=True), log_history among the other keys. */
function trainerState(steps: number): string {
  const sorted = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(sorted)
      : value && typeof value === 'object'
        ? Object.fromEntries(
            Object.keys(value)
              .sort()
              .map((k) => [k, sorted((value as Record<string, unknown>)[k])]),
          )
        : value;
  const log_history = Array.from({ length: steps }, (_, i) => ({
    step: i + 1,
    epoch: (i + 1) / steps,
    loss: Math.sin(i),
    reward: i / steps,
    'rewards/emoji_reward/mean': 0.5,
    completions: { note: 'a "quoted" {brace} and ] bracket in a string' } as unknown as number,
    ...(i === steps - 1 ? { train_runtime: 12.5 } : {}),
  }));
  return JSON.stringify(
    sorted({
      best_global_step: null,
      epoch: 1,
      global_step: steps,
      log_history,
      logging_steps: 1,
      max_steps: steps,
      stateful_callbacks: {},
    }),
    null,
    2,
  );
}

test("a big TRL output folder's first steps are the first events of its full read, from its head and tail alone", async () => {
  const dir = workspace({ 'checkpoint-3000/trainer_state.json': trainerState(3000) });
  const head = await readTrlOutputHead(dir, 500, 0);
  assert.ok(head);
  const full = (await readTrlOutput(dir)).events;
  assert.equal(head.length, 502, 'start, train_begin and 500 logged steps');
  assert.deepEqual(head, full.slice(0, head.length));
  assert.equal(head[0].event === 'start' && head[0].max_steps, 3000, 'max_steps from after log_history');
  assert.equal(await readTrlOutputHead(dir), undefined, 'a small file is read whole at once');
});

test('following a big folder hands on its head first, then the rest, every event once and in order', async () => {
  const dir = workspace({ 'checkpoint-40000/trainer_state.json': trainerState(40_000) });
  assert.ok(fs.statSync(path.join(dir, 'checkpoint-40000', 'trainer_state.json')).size > 8 << 20);
  const batches: RunEvent[][] = [];
  const follower = new TrlOutputFollower(dir, (events) => batches.push(events), 60_000).start();
  await follower.ready;
  follower.stop();
  assert.equal(batches.length, 2, 'the head, then the rest');
  assert.equal(batches[0].length, 2002);
  const delivered = batches.flat();
  assert.deepEqual(delivered, (await readTrlOutput(dir)).events);
});
