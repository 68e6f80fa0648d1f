import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  Tooltip,
  type ChartConfiguration,
  type ChartDataset,
  type TooltipItem,
} from 'chart.js';
import type { PreviewData, PreviewRow } from '../../src/previews/core/rewardPreviewProtocol';
import { l10n } from '../shared/l10n';
import { formatNumber } from '../shared/text';
import type { ChartTheme } from '../shared/theme';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

/** `total`: one bar of the weighted total per completion; `stacked`: weight × reward per function. */
export type ChartMode = 'total' | 'stacked';

type BarConfig = ChartConfiguration<'bar', (number | null)[], string[]>;
type BarDataset = ChartDataset<'bar', (number | null)[]>;

/**
 * Two-line tick labels: the sample's line (`#13.2` for the second completion of a group line), and
 * its group under the first bar of each group.
 */
function labels(rows: PreviewRow[]): string[][] {
  const perLine = new Map<number, number>();
  for (const row of rows) perLine.set(row.line, (perLine.get(row.line) ?? 0) + 1);
  const seen = new Map<number, number>();
  return rows.map((row, i) => {
    const nth = (seen.get(row.line) ?? 0) + 1;
    seen.set(row.line, nth);
    const name = perLine.get(row.line)! > 1 ? `#${row.line}.${nth}` : `#${row.line}`;
    return [name, i === 0 || rows[i - 1].group !== row.group ? `G${row.group + 1}` : ''];
  });
}

function totalDataset(data: PreviewData, rows: PreviewRow[], theme: ChartTheme): BarDataset[] {
  const zeroStd = new Set(data.groups.filter((g) => g.zeroStd).map((g) => g.index));
  const colorOf = (row: PreviewRow) => (zeroStd.has(row.group) ? theme.muted : theme.series[row.group % theme.series.length]);
  return [{ label: l10n.t('weighted total'), data: rows.map((row) => row.total), backgroundColor: rows.map(colorOf) }];
}

function stackedDatasets(data: PreviewData, rows: PreviewRow[], theme: ChartTheme): BarDataset[] {
  return data.functions.map((fn, k) => ({
    label: fn.weight === 1 ? fn.name : `${fn.name} × ${fn.weight}`,
    data: rows.map((row) => (row.rewards[k] === null ? null : row.rewards[k] * fn.weight)),
    backgroundColor: theme.series[k % theme.series.length],
    stack: 'rewards',
  }));
}

function config(data: PreviewData, rows: PreviewRow[], mode: ChartMode, theme: ChartTheme): BarConfig {
  const stacked = mode === 'stacked';
  const axis = { stacked, grid: { color: theme.grid }, border: { color: theme.grid } };
  const title = (text: string) => ({ display: true, text, color: theme.foreground });
  return {
    type: 'bar',
    data: {
      labels: labels(rows),
      datasets: stacked ? stackedDatasets(data, rows, theme) : totalDataset(data, rows, theme),
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      // The colours mean groups in one mode and reward functions in the other: the axes say which.
      scales: {
        x: {
          ...axis,
          grid: { display: false },
          title: title(
            stacked
              ? l10n.t('completions by line; colour: reward function')
              : l10n.t('completions by line; colour: GRPO group, grey: no learning signal'),
          ),
        },
        y: { ...axis, title: title(stacked ? l10n.t('weight × reward') : l10n.t('weighted total of the rewards')) },
      },
      plugins: {
        legend: { display: stacked, labels: { boxWidth: 12 } },
        tooltip: {
          backgroundColor: theme.tooltip.background,
          titleColor: theme.tooltip.foreground,
          bodyColor: theme.tooltip.foreground,
          footerColor: theme.tooltip.foreground,
          borderColor: theme.tooltip.border,
          borderWidth: 1,
          callbacks: {
            title: ([item]: TooltipItem<'bar'>[]) =>
              l10n.t('line {0} · group {1}', rows[item.dataIndex].line, rows[item.dataIndex].group + 1),
            label: (item: TooltipItem<'bar'>) => `${item.dataset.label}: ${formatNumber(item.parsed.y)}`,
            footer: ([item]: TooltipItem<'bar'>[]) => l10n.t('advantage {0}', formatNumber(rows[item.dataIndex].advantage)),
          },
        },
      },
    },
  };
}

/** The bar chart; redrawn from scratch on every change (animation is off, so this is cheap). */
export class RewardChart {
  private chart: Chart<'bar', (number | null)[], string[]> | undefined;

  constructor(private readonly canvas: HTMLCanvasElement) {}

  render(data: PreviewData, rows: PreviewRow[], mode: ChartMode, theme: ChartTheme): void {
    // Text color and font have no per-chart option that reaches every part (ticks, legend).
    Object.assign(Chart.defaults.font, theme.font);
    Chart.defaults.color = theme.foreground;
    this.chart?.destroy();
    const drawn = config(data, rows, mode, theme);
    this.chart = new Chart(this.canvas, drawn);
    // What the bars are, for screen readers (a canvas has no text of its own).
    const axisTitle = drawn.options?.scales?.y?.title;
    const names = drawn.data.labels!.map(([name]) => name);
    this.canvas.setAttribute('aria-label', `${axisTitle && 'text' in axisTitle ? String(axisTitle.text) : ''}: ${names.join(', ')}`);
    this.canvas.setAttribute('role', 'img');
  }
}
