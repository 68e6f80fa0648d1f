// Test helper: reads {cases: [{rewards, groupSizes, options}]} as JSON on stdin and prints the
// TypeScript advantage math's results, for test_advantage_fidelity.py to compare with TRL.
import { computeAdvantages, type AdvantageOptions } from '../../../src/scoring/advantages';

interface Case {
  rewards: (number | null)[][];
  groupSizes: number[];
  options: AdvantageOptions;
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', () => {
  const { cases } = JSON.parse(input) as { cases: Case[] };
  process.stdout.write(JSON.stringify(cases.map((c) => computeAdvantages(c.rewards, c.groupSizes, c.options))));
});
