import { l10n } from '../shared/l10n';
import type { RunData } from './model';

/** What the x axis shows: the global step, time since the run started, or the clock. */
export type XAxis = 'step' | 'relative' | 'wall';

export const X_AXES: readonly XAxis[] = ['step', 'relative', 'wall'];

export function xAxisLabel(axis: XAxis): string {
  switch (axis) {
    case 'step':
      return l10n.t('Step');
    case 'relative':
      return l10n.t('Relative time');
    case 'wall':
      return l10n.t('Wall time');
  }
}

/** The x value of log row `row` of `run` (NaN where the run logged no time). */
export function xOf(axis: XAxis, run: RunData, row: number): number {
  switch (axis) {
    case 'step':
      return run.steps[row];
    case 'relative':
      return run.times[row] - run.startTime;
    case 'wall':
      return run.times[row];
  }
}

// Tick spacings for time axes, in seconds: from a second to a week.
const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800];

/**
 * Tick values for a time axis between `min` and `max` seconds, at most `count` of them, on round
 * durations (5:00, 10:00 rather than 3:20, 6:40); wall times round in the local time zone.
 */
export function timeTicks(axis: Exclude<XAxis, 'step'>, min: number, max: number, count: number): number[] {
  const step = TIME_STEPS.find((s) => (max - min) / s <= count) ?? TIME_STEPS.at(-1)!;
  const offset = axis === 'wall' ? -new Date(min * 1000).getTimezoneOffset() * 60 : 0;
  const ticks: number[] = [];
  for (let t = Math.ceil((min + offset) / step) * step - offset; t <= max; t += step) ticks.push(t);
  return ticks;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Seconds as h:mm:ss (m:ss under an hour). */
function formatDuration(seconds: number): string {
  const s = Math.round(Math.abs(seconds));
  const [h, m] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60)];
  const text = h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
  return seconds < 0 ? `-${text}` : text;
}

export function formatX(axis: XAxis, value: number, language: string): string {
  switch (axis) {
    case 'step':
      return String(Math.round(value));
    case 'relative':
      return formatDuration(value);
    case 'wall':
      return new Date(value * 1000).toLocaleTimeString(language, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  }
}

/**
 * A metric value: 4 significant digits, scientific notation for the very small and very large.
 * (Tick labels are formatted on every redraw: this is several times faster than Intl.NumberFormat.)
 */
export function formatMetric(value: number): string {
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e6)) return value.toExponential(2);
  return String(Number(value.toPrecision(4)));
}
