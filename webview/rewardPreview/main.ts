/**
 * Reward Preview webview: rewards of every completion in a samples file, per reward function,
 * with GRPO totals and advantages as TRL computes them (the host does the math and posts
 * `update`s; this page shows them, and posts `setOptions` and `reveal` back).
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import type { HostMessage, PreviewData, WebviewMessage } from '../../src/previews/core/rewardPreviewProtocol';
import { RewardChart } from './chart';
import { renderSignal } from './signal';
import { createControls } from './controls';
import { h } from '../shared/dom';
import { l10n, setBundle } from '../shared/l10n';
import { filterRows, renderTable, type Sort, type SortColumn } from './table';
import { onThemeChange, readChartTheme } from '../shared/theme';

interface ViewState {
  sort: Sort;
  filter: string;
  stacked: boolean;
}

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): Partial<ViewState> | undefined;
  setState(state: ViewState): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const view: ViewState = { sort: { column: 'line', descending: false }, filter: '', stacked: false, ...vscode.getState() };
let data: PreviewData | undefined;

const sourceLabel = h('span', { className: 'source-label' });
const changeSource = h('vscode-button', { className: 'change-source', attrs: { secondary: '' } });
const writeWeights = h('vscode-button', { className: 'write-weights', attrs: { hidden: '' } });
changeSource.addEventListener('click', () => vscode.postMessage({ type: 'chooseSource' }));
writeWeights.addEventListener('click', () => vscode.postMessage({ type: 'writeWeights' }));
const source = h('div', { className: 'source', attrs: { hidden: '' } }, sourceLabel, changeSource, writeWeights);
const toolbar = h('div', { className: 'toolbar' });
const notice = h('div', { className: 'notice', attrs: { role: 'status', hidden: '' } });
const errors = h('ul', { className: 'errors', attrs: { hidden: '' } });
const signalContainer = h('div', { className: 'signal', attrs: { hidden: '' } });
const summary = h('div', { className: 'summary' }, l10n.t('Waiting for scores…'));
const canvas = h('canvas', { attrs: { role: 'img', 'aria-label': l10n.t('Rewards per completion, grouped by GRPO group') } });
const chartContainer = h('div', { className: 'chart', attrs: { hidden: '' } }, canvas);
const tableContainer = h('div', { className: 'table-container' });
document.body.append(source, toolbar, signalContainer, notice, errors, summary, chartContainer, tableContainer);

const chart = new RewardChart(canvas);
const controls = createControls(toolbar, view, {
  onOptions: (options) => vscode.postMessage({ type: 'setOptions', options }),
  onFilter: (filter) => updateView({ filter }),
  onStacked: (stacked) => updateView({ stacked }),
});

function updateView(change: Partial<ViewState>): void {
  Object.assign(view, change);
  vscode.setState(view);
  render();
}

function toggleSort(column: SortColumn): void {
  const descending = view.sort.column === column && !view.sort.descending;
  updateView({ sort: { column, descending } });
}

/** The saved sort, unless it names a reward function the current data does not have. */
function currentSort(current: PreviewData): Sort {
  const { column } = view.sort;
  return typeof column === 'number' && column >= current.functions.length ? { column: 'line', descending: false } : view.sort;
}

function renderMessages(current: PreviewData): void {
  notice.textContent = current.notice ?? '';
  notice.hidden = !current.notice;
  const failed = current.functions.filter((fn) => fn.error);
  errors.replaceChildren(...failed.map((fn) => h('li', {}, h('strong', {}, fn.name), `: ${fn.error}`)));
  errors.hidden = failed.length === 0;
}

function renderSummary(current: PreviewData, shown: number): void {
  const file = current.samplesFile.split(/[\\/]/).pop() ?? current.samplesFile;
  const silent = current.groups.filter((g) => g.zeroStd).length;
  const counts =
    shown === current.rows.length ? l10n.t('{0} completions', shown) : l10n.t('{0} of {1} completions', shown, current.rows.length);
  summary.textContent = `${file} · ${counts} · ${current.groups.length === 1 ? l10n.t('1 group') : l10n.t('{0} groups', current.groups.length)} · ${l10n.t('{0} without learning signal', silent)}`;
}

function renderChart(current: PreviewData): void {
  chart.render(current, filterRows(current.rows, view.filter), view.stacked ? 'stacked' : 'total', readChartTheme());
}

/** Whose rewards are totalled, with their weights; another source; the panel's weights into the config. */
function renderSource(current: PreviewData): void {
  source.hidden = !current.source;
  sourceLabel.textContent = current.source?.label ?? '';
  changeSource.textContent = l10n.t('Change…');
  writeWeights.hidden = !current.source?.writableTo;
  writeWeights.textContent = current.source?.writableTo ? l10n.t('Write weights to {0}', current.source.writableTo) : '';
}

function render(): void {
  const current = data;
  if (!current) return;
  renderSource(current);
  const rows = filterRows(current.rows, view.filter);
  signalContainer.replaceChildren(...(current.dryRun ? [renderSignal(current.dryRun)] : []));
  signalContainer.hidden = !current.dryRun;
  renderMessages(current);
  renderSummary(current, rows.length);
  chartContainer.hidden = rows.length === 0;
  renderChart(current);
  const table = renderTable(current, rows, currentSort(current), {
    onSort: toggleSort,
    onReveal: (row) => vscode.postMessage({ type: 'reveal', file: current.samplesFile, line: row.line }),
  });
  tableContainer.replaceChildren(table);
}

window.addEventListener('message', (event: MessageEvent<HostMessage>) => {
  if (event.data?.type !== 'update') return;
  setBundle(event.data.strings);
  data = event.data.data;
  controls.update(data);
  render();
});
onThemeChange(() => data && renderChart(data));
vscode.postMessage({ type: 'ready' });
