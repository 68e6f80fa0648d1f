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
import { formatNumber } from '../shared/text';
import type { ChartTheme } from '../shared/theme';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

/** `total`: one bar of the weighted total per completion; `stacked`: weight × reward per function. */
export type ChartMode = 'total' | 'stacked';

type BarConfig = ChartConfiguration<'bar', (number | null)[], string[]>;
type BarDataset = ChartDataset<'bar', (number | null)[]>;

/** Two-line tick labels: the sample's line, and its group under the first bar of each group. */
function labels(rows: PreviewRow[]): string[][] {
  return rows.map((row, i) => [`#${row.line}`, i === 0 || rows[i - 1].group !== row.group ? `G${row.group + 1}` : '']);
}

function totalDataset(data: PreviewData, rows: PreviewRow[], theme: ChartTheme): BarDataset[] {
  const zeroStd = new Set(data.groups.filter((g) => g.zeroStd).map((g) => g.index));
  const colorOf = (row: PreviewRow) => (zeroStd.has(row.group) ? theme.muted : theme.series[row.group % theme.series.length]);
  return [{ label: 'weighted total', data: rows.map((row) => row.total), backgroundColor: rows.map(colorOf) }];
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
  return {
    type: 'bar',
    data: {
      labels: labels(rows),
      datasets: stacked ? stackedDatasets(data, rows, theme) : totalDataset(data, rows, theme),
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: { x: { ...axis, grid: { display: false } }, y: axis },
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
            title: ([item]: TooltipItem<'bar'>[]) => `line ${rows[item.dataIndex].line} · group ${rows[item.dataIndex].group + 1}`,
            label: (item: TooltipItem<'bar'>) => `${item.dataset.label}: ${formatNumber(item.parsed.y)}`,
            footer: ([item]: TooltipItem<'bar'>[]) => `advantage ${formatNumber(rows[item.dataIndex].advantage)}`,
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
    this.chart = new Chart(this.canvas, config(data, rows, mode, theme));
  }
}
