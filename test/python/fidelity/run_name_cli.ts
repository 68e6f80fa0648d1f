// Test helper: prints the run-folder name part GRPO Studio gives each config path on stdin (one per
// line, JSON lines out), for test_run_folder_names.py to compare with the runner's own.
import { runName } from '../../../src/training/core/runFolder';

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', () => {
  const names = input.split('\n').filter((line) => line.trim());
  process.stdout.write(JSON.stringify(names.map(runName)));
});
