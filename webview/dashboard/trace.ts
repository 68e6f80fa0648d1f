import type { ChartDataset } from 'chart.js';
import { l10n } from '../shared/l10n';
import { xOf, type XAxis } from './axes';
import { faded } from './colors';
import { Decimator, type Point } from './decimate';
import type { RunData, Series } from './model';

/** At most twice this many points per line, whatever the run's length. */
const MAX_BUCKETS = 300;

export type LineDataset = ChartDataset<'line', Point[]>;

/**
 * One run's line(s) on one chart, consuming the series incrementally. Without smoothing: the
 * values, min-max decimated. With smoothing: the debiased EMA (as TensorBoard does), mean
 * decimated, over the raw values' min-max band, faded.
 */
export class Trace {
  private readonly smooth: Decimator;
  private readonly raw: Decimator | undefined;
  private consumed = 0;
  private smoothed = 0;
  private count = 0;

  constructor(private readonly weight: number) {
    this.smooth = new Decimator(weight > 0 ? 'mean' : 'minmax', MAX_BUCKETS);
    this.raw = weight > 0 ? new Decimator('minmax', MAX_BUCKETS) : undefined;
  }

  sync(series: Series, run: RunData, axis: XAxis): void {
    const { rows, values } = series;
    for (let i = this.consumed; i < values.length; i++) {
      const x = xOf(axis, run, rows[i]);
      if (!Number.isFinite(x)) continue;
      const y = values[i];
      this.raw?.push(x, y);
      // The debiased EMA, in a form that is exact for constant values (the first point weighs 1):
      // a constant metric stays flat instead of wobbling by rounding errors on an autoscaled axis.
      this.count++;
      this.smoothed += ((1 - this.weight) / (1 - this.weight ** this.count)) * (y - this.smoothed);
      this.smooth.push(x, this.smoothed);
    }
    this.consumed = values.length;
    this.raw?.flush();
    this.smooth.flush();
  }

  datasets(name: string, color: string): LineDataset[] {
    const smooth: LineDataset = { label: name, data: this.smooth.points, borderColor: color, backgroundColor: color, order: 0 };
    if (!this.raw) return [smooth];
    const rawColor = faded(color, 0.3);
    return [
      smooth,
      {
        label: `${name} (${l10n.t('raw')})`,
        data: this.raw.points,
        borderColor: rawColor,
        backgroundColor: rawColor,
        borderWidth: 1,
        order: 1,
      },
    ];
  }
}
