// Opening a TRL output folder (argv[2], written by bench/scale.bench.mjs): how soon the first events
// reach the dashboard (the head of trainer_state.json) and when all of them have, against reading the
// folder whole. Run through `npm run bench` (scripts/bench.mjs builds this file).
import { readTrlOutput, TrlOutputFollower } from '../src/training/core/trlOutput';

async function main(dir: string): Promise<void> {
  let t0 = performance.now();
  const whole = await readTrlOutput(dir);
  const wholeMs = performance.now() - t0;
  const arrivals: { ms: number; events: number }[] = [];
  t0 = performance.now();
  const follower = new TrlOutputFollower(dir, (events) => arrivals.push({ ms: performance.now() - t0, events: events.length }), 60_000);
  follower.start();
  await follower.ready;
  follower.stop();
  process.stdout.write(JSON.stringify({ wholeMs, wholeEvents: whole.events.length, arrivals }));
}

main(process.argv[2]).catch((e) => {
  console.error(e);
  process.exit(1);
});
