import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { EventReader, type RunEvent } from '../../src/training/core/events';
import { metricsCsv } from '../../src/training/core/metricsCsv';
import {
  CALLBACK_RUN_QUIET_SECONDS,
  elapsed,
  EVENTS_FILE,
  EventFollower,
  eta,
  killRunner,
  PID_FILE,
  requestStop,
  RUNNER_SCRIPT,
  runState,
  STOP_FILE,
} from '../../src/training/core/runs';
import { workspace } from './helpers';

const lines = [
  { event: 'start', time: 1000, max_steps: 10 },
  { event: 'log', step: 1, time: 1002, metrics: { reward: 0.5, 'rewards/emoji_reward/mean': 0.25 } },
  { event: 'completions', step: 1, rows: [{ prompt: '富士山は？', completion: '高い🗻', rewards: { emoji_reward: 1 }, advantage: 0.7 }] },
  { event: 'log', step: 2, time: 1004, metrics: { reward: 0.75 } },
].map((e) => JSON.stringify(e));

test('events arrive whole even when chunks split lines and UTF-8 characters', () => {
  const bytes = Buffer.from(`${lines.join('\n')}\n{"event": "end", "sta`);
  const reader = new EventReader();
  const events = [];
  for (let i = 0; i < bytes.length; i += 7) events.push(...reader.push(bytes.subarray(i, i + 7)));
  assert.deepEqual(
    events.map((e) => e.event),
    ['start', 'log', 'completions', 'log'],
  );
  assert.equal((events[2] as { rows: { completion: string }[] }).rows[0].completion, '高い🗻');
  assert.deepEqual(
    reader.push(Buffer.from('tus": "finished"}\n')).map((e) => e.event),
    ['end'],
    'the half line completes later',
  );
  assert.deepEqual(reader.push(Buffer.from('not json\n{"event": "unknown"}\n')), []);
  assert.equal(reader.skipped, 2);
});

test('run state: running, finished, and failed when the runner vanished without an end', () => {
  const dir = workspace({ [EVENTS_FILE]: `${lines.join('\n')}\n` }, 'run');
  const running = runState(dir, undefined, true);
  assert.deepEqual([running.status, running.step, running.maxSteps, running.reward], ['running', 2, 10, 0.75]);
  assert.equal(eta(running, 1004), 16, '2 s per step, 8 steps left');
  const killed = runState(dir, undefined, false);
  assert.equal(killed.status, 'failed');
  assert.match(killed.error ?? '', /without an end event/);
  fs.appendFileSync(path.join(dir, EVENTS_FILE), `${JSON.stringify({ event: 'end', status: 'stopped' })}\n`);
  assert.equal(runState(dir, undefined, false).status, 'stopped');
});

/** A live process whose command line names the runner, as a stand-in for one. */
const fakeRunner = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', RUNNER_SCRIPT], { stdio: 'ignore' });
after(() => fakeRunner.kill());
const runnerPid = fakeRunner.pid!;
before(async () => {
  // Until its exec is done, the child's command line is still this process's.
  const named = () => process.platform !== 'linux' || fs.readFileSync(`/proc/${runnerPid}/cmdline`, 'utf8').includes(RUNNER_SCRIPT);
  while (!named()) await new Promise((resolve) => setTimeout(resolve, 10));
});

test('a dead pid file reads as not alive, and so does a live process that is not the runner (a reused pid)', () => {
  const dir = workspace({ [EVENTS_FILE]: `${lines[0]}\n`, [PID_FILE]: '999999999' }, 'pid');
  assert.equal(runState(dir).status, 'failed');
  fs.writeFileSync(path.join(dir, PID_FILE), String(runnerPid));
  assert.equal(runState(dir).status, 'running');
  fs.writeFileSync(path.join(dir, PID_FILE), String(process.pid));
  assert.equal(runState(dir).status, process.platform === 'linux' ? 'failed' : 'running', 'the test process is alive but no runner');
});

test('a folder the callback writes on its own (no pid files) is running while its events keep coming', () => {
  const dir = workspace({ [EVENTS_FILE]: `${lines[0]}\n` }, 'callback-only');
  assert.equal(runState(dir).status, 'running');
  const quiet = Date.now() / 1000 - CALLBACK_RUN_QUIET_SECONDS - 60;
  fs.utimesSync(path.join(dir, EVENTS_FILE), quiet, quiet);
  assert.equal(runState(dir).status, 'failed', 'silent for longer than a step can take: gone without an end event');
});

test('the follower delivers the history, then only what is appended', () => {
  const dir = workspace({ [EVENTS_FILE]: `${lines.slice(0, 2).join('\n')}\n` }, 'follow');
  const batches: string[][] = [];
  const follower = new EventFollower(path.join(dir, EVENTS_FILE), (events) => batches.push(events.map((e) => e.event)));
  follower.poll();
  fs.appendFileSync(path.join(dir, EVENTS_FILE), `${lines[2]}\n${lines[3].slice(0, 10)}`);
  follower.poll();
  fs.appendFileSync(path.join(dir, EVENTS_FILE), `${lines[3].slice(10)}\n`);
  follower.poll();
  follower.poll();
  assert.deepEqual(batches, [['start', 'log'], ['completions'], ['log']]);
});

test('metrics CSV: a session resumed after a crash replaces the steps after its checkpoint', () => {
  const csv = metricsCsv([
    { event: 'start', resumed_from: null },
    ...[1, 2, 3, 4].map((step) => ({ event: 'log' as const, step, metrics: { reward: step } })),
    { event: 'checkpoint', step: 2, path: 'checkpoint-2' },
    { event: 'start', resumed_from: { checkpoint: 'checkpoint-2', step: 2 } },
    { event: 'log', step: 3, metrics: { reward: 30 } },
    { event: 'log', step: 4, metrics: { reward: 40 } },
    { event: 'log', step: 5, metrics: { reward: 50 } },
  ] as RunEvent[]);
  assert.equal(csv, 'step,reward\n1,1\n2,2\n3,30\n4,40\n5,50\n');
});

test('metrics CSV: a step column and every key seen, quoted where needed', () => {
  const csv = metricsCsv([
    { event: 'log', step: 1, metrics: { reward: 0.5, 'rewards/emoji_reward/mean': 0.25 } },
    { event: 'checkpoint', step: 1, path: 'x' },
    { event: 'log', step: 2, metrics: { reward: 0.75, 'odd,key': 3 } },
  ] as RunEvent[]);
  assert.equal(csv, 'step,reward,rewards/emoji_reward/mean,"odd,key"\n1,0.5,0.25,\n2,0.75,,3\n');
});

test('Stop writes the STOP file once per session, never for a runner that is gone, and sends no signal', () => {
  const events = (...kinds: string[]) => `${kinds.map((event) => JSON.stringify({ event, step: 1, status: 'stopped' })).join('\n')}\n`;
  const run = (history: string, pid: number) => {
    const dir = workspace({ [EVENTS_FILE]: history, [PID_FILE]: String(pid) }, 'stop');
    requestStop(dir);
    return fs.existsSync(path.join(dir, STOP_FILE));
  };
  // A signal would end the stand-in runner, and the next assertions with it.
  assert.equal(run(events('start', 'log'), runnerPid), true, 'a running session');
  assert.equal(
    run(events('start', 'log', 'stop_requested'), runnerPid),
    false,
    'already stopping: the runner deleted the file, a second one would outlive the run',
  );
  assert.equal(
    run(events('start', 'stop_requested', 'end'), runnerPid),
    true,
    'a resumed runner still loading (the earlier session ended)',
  );
  assert.equal(run(events('start', 'log'), 2 ** 22 + 12345), false, 'no runner: nothing would delete the file');
});

test("a resumed run: elapsed leaves out the pause, the ETA follows the new session's pace, and a resume still loading is running", () => {
  const history = [
    { event: 'start', time: 1000, max_steps: 10 },
    { event: 'log', step: 4, time: 1040, metrics: {} },
    { event: 'end', status: 'stopped', time: 1040 },
    { event: 'start', time: 5000, max_steps: 10, resumed_from: { step: 4 } },
    { event: 'log', step: 6, time: 5002, metrics: {} },
  ];
  const dir = workspace({ [EVENTS_FILE]: `${history.map((e) => JSON.stringify(e)).join('\n')}\n` }, 'resumed');
  const resumed = runState(dir, undefined, true);
  assert.equal(elapsed(resumed, 5002), 42, '40 s before the stop, 2 s since the resume');
  assert.equal(eta(resumed, 5002), 4, '1 s per step since the resume, 4 steps left');

  const stopped = history.slice(0, 3);
  const loading = workspace(
    { [EVENTS_FILE]: `${stopped.map((e) => JSON.stringify(e)).join('\n')}\n`, [PID_FILE]: String(runnerPid) },
    'loading',
  );
  assert.equal(runState(loading).status, 'running', 'a runner launched after the end: Resume is loading the checkpoint');
  fs.utimesSync(path.join(loading, PID_FILE), 1000, 1000);
  assert.equal(runState(loading).status, 'stopped', "the pid file is the stopped session's");
});

test('a runner that does not stop (a hung reward) is killed with its process group; the run then reads as failed, its events kept', async () => {
  const history = `${JSON.stringify({ event: 'start', time: 1 })}\n${JSON.stringify({ event: 'log', step: 1, metrics: {} })}\n`;
  // Detached, as the editor starts runners: the leader of a group with a worker in it (as under
  // accelerate). The leader prints its worker's pid.
  const script =
    "const w = require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }); console.log(w.pid); setInterval(() => {}, 1000)";
  const leader = spawn(process.execPath, ['-e', script, RUNNER_SCRIPT], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  const workerPid = Number(await new Promise<string>((resolve) => leader.stdout!.once('data', (data) => resolve(String(data)))));
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  try {
    const dir = workspace({ [EVENTS_FILE]: history, [PID_FILE]: String(leader.pid) }, 'kill');
    requestStop(dir);
    const stopping = runState(dir);
    assert.equal(stopping.status, 'running');
    assert.equal(stopping.stopping, true, 'the STOP file is not consumed: the step never ends');
    const exited = new Promise((resolve) => leader.on('exit', (_code, signal) => resolve(signal)));
    killRunner(dir);
    assert.equal(await exited, 'SIGKILL');
    for (let i = 0; i < 50 && alive(workerPid); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(alive(workerPid), false, 'the worker process of the group was killed too');
    const killed = runState(dir);
    assert.equal(killed.status, 'failed');
    assert.equal(killed.step, 1);
    assert.equal(fs.existsSync(path.join(dir, STOP_FILE)), false, 'no stale stop request for a resume');
  } finally {
    for (const pid of [workerPid, leader.pid!]) if (alive(pid)) process.kill(pid, 'SIGKILL');
    leader.stdout!.destroy();
  }
});
