import {
  Chart,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartConfiguration,
  type TooltipItem,
} from 'chart.js';
import { h } from '../shared/dom';
import { l10n } from '../shared/l10n';
import type { ChartTheme } from '../shared/theme';
import { formatMetric, formatX, timeTicks, type XAxis } from './axes';
import { faded } from './colors';
import type { Point } from './decimate';
import type { RunData } from './model';
import { Trace, type LineDataset } from './trace';

Chart.register(LineController, LineElement, PointElement, LinearScale, Tooltip);

/** Room for one x tick label. */
const TICK_SPACING_PX = 72;

/** What every chart is drawn with; the page owns it. */
export interface ChartContext {
  /** In color order: `colors[i]` is the color of `runs[i]`. */
  runs: readonly RunData[];
  colors: readonly string[];
  axis: XAxis;
  /** EMA weight in [0, 1): 0 draws the values as they are. */
  smoothing: number;
  theme: ChartTheme;
  language: string;
}

function chartConfig(context: ChartContext, datasets: LineDataset[]): ChartConfiguration<'line', Point[]> {
  const { theme, axis, language } = context;
  const axisStyle = { grid: { color: faded(theme.grid, 0.15) }, border: { color: theme.grid } };
  return {
    type: 'line',
    data: { datasets },
    options: {
      animation: false,
      parsing: false,
      normalized: true,
      spanGaps: true,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      elements: { point: { radius: 0, hoverRadius: 3, hitRadius: 4 }, line: { borderWidth: 1.5 } },
      scales: {
        x: {
          type: 'linear',
          ...axisStyle,
          afterBuildTicks: (scale) => {
            if (axis !== 'step')
              scale.ticks = timeTicks(axis, scale.min, scale.max, Math.max(2, scale.width / TICK_SPACING_PX)).map((value) => ({ value }));
          },
          ticks: {
            maxRotation: 0,
            autoSkipPadding: 16,
            precision: axis === 'step' ? 0 : undefined,
            callback: (value) => formatX(axis, Number(value), language),
          },
        },
        y: { type: 'linear', ...axisStyle, ticks: { callback: (value) => formatMetric(Number(value)) } },
      },
      plugins: {
        tooltip: {
          backgroundColor: theme.tooltip.background,
          titleColor: theme.tooltip.foreground,
          bodyColor: theme.tooltip.foreground,
          borderColor: theme.tooltip.border,
          borderWidth: 1,
          callbacks: {
            title: ([item]: TooltipItem<'line'>[]) => {
              const x = formatX(axis, item?.parsed.x ?? NaN, language);
              return axis === 'step' ? l10n.t('step {0}', x) : x;
            },
            label: (item: TooltipItem<'line'>) => `${item.dataset.label}: ${formatMetric(item.parsed.y ?? NaN)}`,
          },
        },
      },
    },
  };
}

/** Lines have no points drawn, so a series of one point (a first evaluation, say) gets a dot. */
function markLonePoints(datasets: LineDataset[]): LineDataset[] {
  for (const dataset of datasets) dataset.pointRadius = isLone(dataset) ? 3 : 0;
  return datasets;
}

const isLone = (dataset: LineDataset) => dataset.data.length === 1;

/** A safe file name for a metric key: `rewards/emoji_reward/mean` → `rewards_emoji_reward_mean.png`. */
export const pngName = (key: string) => `${key.replace(/[^\w.-]+/g, '_')}.png`;

/**
 * The chart of one metric, one line per run that logged it. The grid decides when it draws
 * (only while on screen, a few per frame). A draw appends the new points to the datasets in place
 * and redraws with `update('none')`; after `invalidate` (axis, smoothing, theme or colors changed)
 * it rebuilds the chart from the series.
 */
export class ChartCard {
  readonly element: HTMLElement;
  /** On screen, or nearly: worth drawing. */
  visible = false;
  /** Has points or options that are not drawn yet. */
  pending = true;
  private readonly canvas: HTMLCanvasElement;
  private chart: Chart<'line', Point[]> | undefined;
  private traces = new Map<RunData, Trace>();
  /** Each dataset's points as the chart last laid them out. */
  private laidOut: Point[][] = [];

  constructor(
    readonly key: string,
    private readonly context: () => ChartContext,
    onSavePng: (card: ChartCard) => void,
  ) {
    this.canvas = h('canvas', { attrs: { role: 'img', 'aria-label': key } });
    const save = h('button', { className: 'save-png', attrs: { type: 'button', title: l10n.t('Export PNG') } }, 'PNG');
    save.addEventListener('click', () => onSavePng(this));
    const header = h(
      'figcaption',
      { className: 'chart-header' },
      h('span', { className: 'chart-title', attrs: { title: key } }, key),
      save,
    );
    this.element = h(
      'figure',
      { className: 'chart-card', attrs: { 'data-key': key } },
      header,
      h('div', { className: 'chart-box' }, this.canvas),
    );
  }

  invalidate(): void {
    this.chart?.destroy();
    this.chart = undefined;
    this.traces.clear();
    this.laidOut = [];
    this.pending = true;
  }

  dispose(): void {
    this.chart?.destroy();
  }

  /**
   * The chart under its title (and, with several runs, a legend of their colors), on the editor's
   * background (the canvas itself is transparent), drawn at twice the screen's pixels at least so it
   * reads well in a document: a PNG data URL.
   */
  toPng(): string {
    if (this.pending) this.draw();
    this.update(); // points that moved less than a pixel too
    const chart = this.chart;
    const previous = chart?.options.devicePixelRatio;
    if (chart) {
      // No hover tooltip in the picture.
      chart.setActiveElements([]);
      chart.tooltip?.setActiveElements([], { x: 0, y: 0 });
      chart.options.devicePixelRatio = Math.max(2, window.devicePixelRatio || 1);
      chart.resize();
    }
    try {
      return this.compose();
    } finally {
      if (chart) {
        chart.options.devicePixelRatio = previous;
        chart.resize();
      }
    }
  }

  private compose(): string {
    const { theme, runs, colors } = this.context();
    const scale = this.canvas.width / (this.canvas.clientWidth || this.canvas.width);
    const rowHeight = Math.round(theme.font.size * 2 * scale);
    const header = runs.length > 1 ? 2 * rowHeight : rowHeight;
    const image = h('canvas', { attrs: { width: String(this.canvas.width), height: String(this.canvas.height + header) } });
    const context = image.getContext('2d');
    if (context) {
      context.fillStyle = getComputedStyle(document.body).backgroundColor;
      context.fillRect(0, 0, image.width, image.height);
      context.fillStyle = theme.foreground;
      context.font = `600 ${theme.font.size * scale}px ${theme.font.family}`;
      context.textBaseline = 'middle';
      context.fillText(this.key, 8 * scale, rowHeight / 2);
      if (runs.length > 1) {
        context.font = `${theme.font.size * scale}px ${theme.font.family}`;
        let x = 8 * scale;
        runs.forEach((run, i) => {
          const box = theme.font.size * 0.8 * scale;
          context.fillStyle = colors[i];
          context.fillRect(x, rowHeight * 1.5 - box / 2, box, box);
          context.fillStyle = theme.foreground;
          context.fillText(run.info.name, x + box + 4 * scale, rowHeight * 1.5);
          x += box + 4 * scale + context.measureText(run.info.name).width + 16 * scale;
        });
      }
      context.drawImage(this.canvas, 0, header);
    }
    return image.toDataURL('image/png');
  }

  draw(): void {
    this.pending = false;
    const context = this.context();
    let added = false;
    for (const run of context.runs) {
      const series = run.series.get(this.key);
      if (!series) continue;
      let trace = this.traces.get(run);
      if (!trace) {
        this.traces.set(run, (trace = new Trace(context.smoothing)));
        added = true;
      }
      trace.sync(series, run, context.axis);
    }
    // Chart.js keeps the point options its elements were created with: a lone point that gained
    // neighbours would keep its dot, so that chart is built again (once per series).
    if (this.chart?.data.datasets.some((dataset) => (dataset.pointRadius === 3) !== isLone(dataset))) {
      this.chart.destroy();
      this.chart = undefined;
    }
    if (!this.chart) {
      // Text color and font have no per-chart option that reaches every part (ticks, tooltip).
      Object.assign(Chart.defaults.font, context.theme.font);
      Chart.defaults.color = context.theme.foreground;
      this.chart = new Chart(this.canvas, chartConfig(context, markLonePoints(this.datasets(context))));
      this.recordLayout();
      return;
    }
    if (added) this.chart.data.datasets = markLonePoints(this.datasets(context));
    // In a long run a new step mostly nudges the last decimated points by a fraction of a pixel:
    // a Chart.js update (about a millisecond: layout, ticks, options) would draw the same picture.
    if (!added && this.sameOnScreen()) return;
    this.update();
  }

  private update(): void {
    if (!this.chart) return;
    this.chart.update('none');
    this.recordLayout();
  }

  private recordLayout(): void {
    this.laidOut = this.chart!.data.datasets.map((dataset) => dataset.data.map(({ x, y }) => ({ x, y })));
  }

  /** Whether every point is where the chart last put it, to within half a pixel, inside the same axes. */
  private sameOnScreen(): boolean {
    const { data, scales } = this.chart!;
    const { x, y } = scales;
    if (data.datasets.length !== this.laidOut.length) return false;
    return data.datasets.every((dataset, i) => {
      const before = this.laidOut[i];
      if (before.length !== dataset.data.length) return false;
      return dataset.data.every((point, j) => {
        const old = before[j];
        if (point.x === old.x && point.y === old.y) return true;
        // Outside the axes' current range, the ticks and the scale would change.
        if (point.x < x.min || point.x > x.max || point.y < y.min || point.y > y.max) return false;
        return (
          Math.abs(x.getPixelForValue(point.x) - x.getPixelForValue(old.x)) < 0.5 &&
          Math.abs(y.getPixelForValue(point.y) - y.getPixelForValue(old.y)) < 0.5
        );
      });
    });
  }

  private datasets(context: ChartContext): LineDataset[] {
    return context.runs.flatMap((run, i) => this.traces.get(run)?.datasets(run.info.name, context.colors[i]) ?? []);
  }
}
