import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { scoreSamples } from '../../src/scoring/engine';
import { RewardWorker, WorkerFault } from '../../src/scoring/rewardWorker';
import { parseSampleSet } from '../../src/scoring/samples';
import { repoRoot, workspace } from './helpers';
import { loadPythonParser } from '../../src/discovery/core/parser';

// The real worker (python/grpo_studio_worker.py) on the machine's python3: it needs only the stdlib.
const REWARDS = `
import os, sys, time

def length_reward(completions, **kwargs):
    return [float(len(c)) for c in completions]

def slow_reward(completions, **kwargs):
    time.sleep(30)
    return [0.0 for c in completions]

def crashing_reward(completions, **kwargs):
    os._exit(7)

def chatty_reward(completions, **kwargs):
    sys.stdout.write("x" * (5 * 1024 * 1024))
    return [1.0 for c in completions]

def stdin_reward(completions, **kwargs):
    data = sys.stdin.read()
    return [float(len(data)) for c in completions]

def spawning_reward(completions, **kwargs):
    import subprocess
    with open(os.environ["GRPO_TEST_PIDFILE"], "w") as f:
        f.write(str(subprocess.Popen(["sleep", "60"]).pid))
    time.sleep(30)
    return [0.0 for c in completions]
`;

const SAMPLES = ['{"prompt": "日本の首都は？", "completion": "東京です😀"}', '{"prompt": "日本の首都は？", "completion": "東京"}'].join(
  '\n',
);

/** A worker in a fresh workspace whose reward module is `source`. */
function setup(timeoutMs = 20_000, { source = REWARDS, setupTimeoutMs }: { source?: string; setupTimeoutMs?: number } = {}) {
  const dir = workspace({ 'my rewards/報酬.py': source });
  const file = path.join(dir, 'my rewards', '報酬.py');
  const output: string[] = [];
  const worker = new RewardWorker({
    python: 'python3',
    workerScript: path.join(repoRoot, 'python', 'grpo_studio_worker.py'),
    cwd: dir,
    timeoutMs,
    setupTimeoutMs,
    onOutput: (text) => output.push(text),
  });
  /** Scores the sample set with these module-level rewards, in one request. */
  const run = async (...attrs: string[]) =>
    scoreSamples(worker, {
      parser: await loadPythonParser(path.join(repoRoot, 'dist')),
      rewards: attrs.map((attr) => ({ name: attr, file, attr })),
      set: parseSampleSet(SAMPLES),
      paths: [dir],
      options: { scaleRewards: 'group', aggregation: 'sum_then_normalize' },
    });
  return { worker, run, output };
}

test('scores in a path with spaces and Japanese, counting code points like Python', async () => {
  const { worker, run } = setup();
  try {
    const preview = await run('length_reward');
    assert.deepEqual(preview.rewards, [[5], [2]]);
    assert.deepEqual(preview.totals, [5, 2], '5 code points, as Python len counts (JavaScript .length says 6)');
    assert.ok(preview.advantages[0] > 0 && preview.advantages[1] < 0);
    assert.equal(preview.placeholderIds, true);
  } finally {
    worker.dispose();
  }
});

test('a call over the time limit kills the worker; the next request gets a fresh one', async () => {
  const { worker, run } = setup(1500);
  try {
    await assert.rejects(run('slow_reward'), (error: unknown) => error instanceof WorkerFault && error.kind === 'timeout');
    assert.deepEqual((await run('length_reward')).rewards, [[5], [2]]);
  } finally {
    worker.dispose();
  }
});

test('importing the reward modules has its own time limit; the calls get the timeout', async () => {
  // A module-level statement the rewards need (only those run), as a model or table loaded at import.
  const slowImport = [
    'import time',
    'def load_scale():\n    time.sleep(2)\n    return 2.0',
    'SCALE = load_scale()',
    'def scaled_reward(completions, **kwargs):\n    return [SCALE * len(c) for c in completions]',
    'def slow_scaled_reward(completions, **kwargs):\n    time.sleep(30)\n    return [SCALE for c in completions]',
  ].join('\n\n');
  const patient = setup(1000, { source: slowImport, setupTimeoutMs: 20_000 });
  try {
    assert.deepEqual((await patient.run('scaled_reward')).rewards, [[10], [4]], 'a 2 s import is not a 1 s timeout');
    await assert.rejects(
      patient.run('slow_scaled_reward'),
      (error: unknown) => error instanceof WorkerFault && /no answer within 1 s;/.test(error.message),
    );
  } finally {
    patient.worker.dispose();
  }
  const hurried = setup(1000, { source: slowImport, setupTimeoutMs: 1000 });
  try {
    await assert.rejects(
      hurried.run('scaled_reward'),
      (error: unknown) =>
        error instanceof WorkerFault &&
        error.kind === 'timeout' &&
        /no answer within 1 s while importing the reward modules/.test(error.message),
    );
  } finally {
    hurried.worker.dispose();
  }
});

test('dispose fails the request in flight and the queued ones at once, and starts no worker again', async () => {
  const { worker, run } = setup(60_000);
  const inFlight = run('slow_reward');
  const queued = run('length_reward');
  await new Promise((resolve) => setTimeout(resolve, 1500)); // the slow reward is running
  const started = performance.now();
  worker.dispose();
  await assert.rejects(inFlight, /the reward worker was stopped/);
  await assert.rejects(queued, /the reward worker was stopped/);
  assert.ok(performance.now() - started < 5000, 'not after the 60 s time limit');
  await assert.rejects(worker.ping(), /the reward worker was stopped/);
});

test('os._exit inside a reward is a crash fault, and the worker restarts', async () => {
  const { worker, run } = setup();
  try {
    await assert.rejects(
      run('crashing_reward'),
      (error: unknown) => error instanceof WorkerFault && error.kind === 'crash' && /exit code 7/.test(error.message),
    );
    assert.deepEqual((await run('length_reward')).rewards, [[5], [2]]);
  } finally {
    worker.dispose();
  }
});

test('megabytes of prints neither corrupt the protocol nor flood the output', async () => {
  const { worker, run, output } = setup();
  try {
    const preview = await run('chatty_reward');
    assert.deepEqual(preview.rewards, [[1], [1]]);
    const shown = output.join('');
    assert.ok(shown.length < 300 * 1024, `shown ${shown.length} characters`);
    assert.ok(shown.endsWith('[GRPO Studio: further output of this call not shown]\n'), 'one truncation note at the end');
  } finally {
    worker.dispose();
  }
});

test('a reward that reads stdin gets end-of-file instead of hanging', async () => {
  const { worker, run } = setup(10_000);
  try {
    assert.deepEqual((await run('stdin_reward')).rewards, [[0], [0]]);
  } finally {
    worker.dispose();
  }
});

test('a missing interpreter is a start fault with the path in the message', async () => {
  const worker = new RewardWorker({ python: '/no/such/python', workerScript: 'x.py', cwd: repoRoot, timeoutMs: 5000 });
  await assert.rejects(
    worker.ping(),
    (error: unknown) => error instanceof WorkerFault && error.kind === 'start' && /\/no\/such\/python/.test(error.message),
  );
});

test('a native crash (segmentation fault) is a crash fault, and the worker restarts', async () => {
  const { worker, run } = setup(20_000, {
    source:
      'import ctypes\n\ndef segfault_reward(completions, **kwargs):\n    ctypes.string_at(0)\n\ndef ok_reward(completions, **kwargs):\n    return [1.0 for c in completions]\n',
  });
  try {
    await assert.rejects(
      run('segfault_reward'),
      (error: unknown) => error instanceof WorkerFault && error.kind === 'crash' && /SIGSEGV/.test(error.message),
    );
    assert.deepEqual((await run('ok_reward')).rewards, [[1], [1]]);
  } finally {
    worker.dispose();
  }
});

test('a reward that takes the worker down is named, and the other rewards keep their results', async () => {
  const { worker, run } = setup();
  try {
    const preview = await run('length_reward', 'crashing_reward');
    assert.deepEqual(
      preview.rewards.map((row) => row[0]),
      [5, 2],
      "length_reward's scores are kept",
    );
    const crashed = preview.functions[1];
    assert.equal(crashed.name, 'crashing_reward');
    assert.equal(crashed.error?.type, 'WorkerCrash');
    assert.match(crashed.error!.message, /exit code 7/);
    await assert.rejects(
      run('crashing_reward'),
      (error: unknown) => error instanceof WorkerFault && /^crashing_reward: the reward worker exited/.test(error.message),
      'alone, the fault names it',
    );
  } finally {
    worker.dispose();
  }
});

test('a timeout ends the worker and the processes its reward started', async () => {
  const pidFile = path.join(workspace({}), 'child.pid');
  process.env.GRPO_TEST_PIDFILE = pidFile;
  const { worker, run } = setup(3000);
  try {
    await assert.rejects(run('spawning_reward'), (error: unknown) => error instanceof WorkerFault && error.kind === 'timeout');
    const child = Number(fs.readFileSync(pidFile, 'utf8'));
    // Killed, it may linger a moment as a zombie until init reaps it.
    const gone = () => {
      try {
        return fs.readFileSync(`/proc/${child}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? true;
      } catch {
        return true;
      }
    };
    for (let i = 0; i < 50 && !gone(); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(gone(), 'the sleep the reward started is gone too');
  } finally {
    delete process.env.GRPO_TEST_PIDFILE;
    worker.dispose();
  }
});
