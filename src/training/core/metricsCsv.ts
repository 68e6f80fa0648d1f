import type { RunEvent } from './events';
import { RunFold } from './runFold';

/** The logged metrics of a run as CSV: a `step` column, then every metric key in first-seen order. */
export function metricsCsv(events: RunEvent[]): string {
  const rows = new RunFold(events).logs;
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    for (const key of Object.keys(row.metrics)) {
      if (!seen.has(key)) {
        seen.add(key);
        keys.push(key);
      }
    }
  }
  const cell = (value: unknown) => (value === undefined || value === null ? '' : String(value));
  const quote = (text: string) => (/[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);
  const lines = [['step', ...keys].map(quote).join(',')];
  for (const row of rows) lines.push([row.step, ...keys.map((k) => row.metrics[k])].map(cell).join(','));
  return `${lines.join('\n')}\n`;
}
