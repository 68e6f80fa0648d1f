// Test helper: reads an events.jsonl on stdin and prints, as JSON, each line's differences from the
// TypeScript definition of the runner's events (src/training/core/events.ts), for
// test_event_definition.py to check the real runner's output against.
import { eventProblems } from '../../../src/training/core/events';

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', () => {
  const lines = input.split('\n').filter((line) => line.trim());
  const report = lines.map((line, i) => ({
    line: i + 1,
    event: JSON.parse(line).event as string,
    problems: eventProblems(JSON.parse(line)),
  }));
  process.stdout.write(JSON.stringify(report));
});
