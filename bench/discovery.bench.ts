// Discovery benchmark: cold scans, single-file re-checks and the rg floor, measured side by side.
// Run through `npm run bench` (scripts/bench.mjs builds this file and passes the trees to scan).
import * as fs from 'node:fs';
import { loadPythonParser } from '../src/discovery/core/parser';
import { RewardIndex } from '../src/discovery/core/rewardIndex';
import { walkSourceFiles } from '../src/discovery/core/sourceFiles';

const english = { t: (m: string, ...a: Array<string | number>) => m.replace(/\{(\d+)\}/g, (_, i) => String(a[Number(i)])) };

interface Args {
  mode: 'cold' | 'recheck';
  wasmDir: string;
  roots: string[];
  /** For `recheck`: `typical` edits the median-sized reward file, `largest` the biggest one. */
  pick?: 'typical' | 'largest';
}

async function cold({ wasmDir, roots }: Args): Promise<void> {
  const started = performance.now();
  const index = new RewardIndex({
    roots,
    parser: await loadPythonParser(wasmDir),
    l10n: english,
    format: 'auto',
    byShape: true,
    maxFileBytes: 1024 * 1024,
  });
  index.scan();
  const report = index.report();
  const ms = performance.now() - started;
  const files = walkSourceFiles(roots).filter((f) => f.kind === 'python').length;
  process.stdout.write(JSON.stringify({ ms, files, rewards: report.rewards.length, rssMb: process.memoryUsage().rss / 2 ** 20 }));
}

async function recheck({ wasmDir, roots, pick }: Args): Promise<void> {
  const index = new RewardIndex({
    roots,
    parser: await loadPythonParser(wasmDir),
    l10n: english,
    format: 'auto',
    byShape: true,
    maxFileBytes: 1024 * 1024,
  });
  index.scan();
  index.report();
  // Edit a file that defines or wires rewards, as a user typing in it would.
  const candidates = index
    .report()
    .rewards.map((r) => r.file)
    .filter((f) => f.endsWith('.py'));
  const bySize = [...new Set(candidates)].sort((a, b) => fs.statSync(b).size - fs.statSync(a).size);
  const file = pick === 'largest' ? bySize[0] : bySize[Math.floor(bySize.length / 2)];
  const original = fs.readFileSync(file, 'utf8');
  const times: number[] = [];
  for (let i = 0; i < 200; i++) {
    const text = `${original}\n# edit ${i}\n`;
    const t0 = performance.now();
    index.update(file, text);
    index.report();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const p = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  process.stdout.write(
    JSON.stringify({ file, bytes: Buffer.byteLength(original), p50: p(0.5), p95: p(0.95), max: times[times.length - 1] }),
  );
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
(args.mode === 'recheck' ? recheck(args) : cold(args)).catch((e) => {
  console.error(e);
  process.exit(1);
});
