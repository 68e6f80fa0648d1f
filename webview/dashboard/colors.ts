import { color } from 'chart.js/helpers';
import type { RunInfo } from '../../src/training/core/dashboardProtocol';
import type { ChartTheme } from '../shared/theme';

const probe = document.createElement('canvas').getContext('2d');

/** The run's own color, or the theme's chart color for its position. */
export function runColor(run: RunInfo, index: number, theme: ChartTheme): string {
  return run.color ?? theme.series[index % theme.series.length];
}

/** `css` (any CSS color the canvas understands) at `alpha` opacity, for the raw line behind the smoothed one. */
export function faded(css: string, alpha: number): string {
  if (!probe) return css;
  probe.fillStyle = '#000';
  probe.fillStyle = css; // the canvas normalizes it to #rrggbb or rgba(…)
  return color(String(probe.fillStyle)).alpha(alpha).rgbString();
}
