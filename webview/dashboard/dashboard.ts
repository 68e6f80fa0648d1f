import '@vscode-elements/elements/dist/vscode-tab-header/index.js';
import '@vscode-elements/elements/dist/vscode-tab-panel/index.js';
import '@vscode-elements/elements/dist/vscode-tabs/index.js';
import type { DashboardWebviewMessage, RunEvent, RunInfo, RunStatusReport } from '../../src/training/core/dashboardProtocol';
import { h } from '../shared/dom';
import { l10n } from '../shared/l10n';
import { readChartTheme, type ChartTheme } from '../shared/theme';
import { pngName, type ChartContext } from './chartCard';
import { runColor } from './colors';
import { CompletionsTable } from './completions';
import { createControls, type ChartOptions } from './controls';
import { ChartGrid } from './grid';
import { SettingsDiffView } from './settingsDiff';
import { RunData } from './model';
import { RunsBar } from './runs';

/** What the page remembers across reloads (`vscode.setState`). */
export interface ViewState extends ChartOptions {
  filter: string;
  /** The open tab: 0 charts, 1 completions. */
  tab: number;
}

export interface DashboardHost {
  post(message: DashboardWebviewMessage): void;
  saveView(view: ViewState): void;
}

/** The page for one set of runs (a `reset` builds a new one): runs bar, chart options, charts and completions. */
export class Dashboard {
  readonly element: HTMLElement;
  private readonly runs: RunData[];
  private readonly context: ChartContext;
  private readonly grid: ChartGrid;
  private readonly runsBar: RunsBar;
  private readonly table: CompletionsTable;
  private readonly waiting = h('div', { className: 'waiting' }, l10n.t('Waiting for training metrics…'));
  /** With several runs (Compare Runs): the settings that differ between them. */
  private readonly settings?: SettingsDiffView;

  constructor(
    runs: readonly RunInfo[],
    private readonly view: ViewState,
    private readonly host: DashboardHost,
  ) {
    this.runs = runs.map((info) => new RunData(info));
    if (this.runs.length > 1) this.settings = new SettingsDiffView(this.runs);
    const theme = readChartTheme();
    const language = document.documentElement.lang || 'en';
    this.context = { runs: this.runs, colors: this.colors(theme), axis: view.axis, smoothing: view.smoothing, theme, language };
    this.grid = new ChartGrid(
      () => this.context,
      (card) => host.post({ type: 'savePng', name: pngName(card.key), dataUrl: card.toPng() }),
    );
    this.runsBar = new RunsBar(this.runs, {
      onStop: (run) => host.post({ type: 'stop', runId: run.info.id }),
      onResume: (run) => host.post({ type: 'resume', runId: run.info.id }),
      onExportCsv: (run) => host.post({ type: 'exportCsv', runId: run.info.id }),
    });
    this.table = new CompletionsTable(view.filter, this.runs.length > 1, {
      onAddToSamples: (rows) => host.post({ type: 'addToSamples', rows }),
      onFilter: (filter) => this.saveView({ filter }),
    });
    const controls = createControls(view, {
      onSmoothing: (smoothing) => this.setChartOptions({ smoothing }),
      onAxis: (axis) => this.setChartOptions({ axis }),
    });
    this.element = h('div', { className: 'dashboard' }, h('div', { className: 'toolbar' }, this.runsBar.element, controls), this.tabs());
    this.updateRuns();
  }

  /** Events appended to `runId`'s log: only what they touch is redrawn. */
  append(runId: string, events: readonly RunEvent[]): void {
    const run = this.runs.find((r) => r.info.id === runId);
    if (!run || !Array.isArray(events)) return;
    const changes = run.append(events);
    this.grid.update(changes.metrics, changes.superseded);
    this.waiting.hidden = this.grid.size > 0;
    if (changes.completions.length) this.table.add(run, changes.completions);
    this.runsBar.update(run, this.colorOf(run));
    if (events.some((event) => event.event === 'start')) this.settings?.update(this.context.colors);
  }

  setStatus(runId: string, report: RunStatusReport): void {
    const run = this.runs.find((r) => r.info.id === runId);
    if (!run) return;
    run.setStatus(report);
    this.runsBar.update(run, this.colorOf(run));
  }

  themeChanged(): void {
    this.context.theme = readChartTheme();
    this.context.colors = this.colors(this.context.theme);
    this.updateRuns();
    this.grid.invalidate();
  }

  dispose(): void {
    this.grid.dispose();
  }

  private tabs(): HTMLElement {
    const header = (label: string) => h('vscode-tab-header', { attrs: { slot: 'header' } }, label);
    const tabs = h(
      'vscode-tabs',
      { attrs: { 'selected-index': String(this.view.tab) } },
      header(l10n.t('Charts')),
      h('vscode-tab-panel', {}, this.waiting, this.grid.element),
      header(l10n.t('Completions')),
      h('vscode-tab-panel', {}, this.table.element),
      ...(this.settings ? [header(l10n.t('Settings')), h('vscode-tab-panel', {}, this.settings.element)] : []),
    );
    tabs.addEventListener('vsc-tabs-select', (event) => this.saveView({ tab: event.detail.selectedIndex }));
    return tabs;
  }

  private colors(theme: ChartTheme): string[] {
    return this.runs.map((run, i) => runColor(run.info, i, theme));
  }

  private colorOf(run: RunData): string {
    return this.context.colors[this.runs.indexOf(run)];
  }

  private updateRuns(): void {
    for (const run of this.runs) this.runsBar.update(run, this.colorOf(run));
    this.settings?.update(this.context.colors);
  }

  private setChartOptions(change: Partial<ChartOptions>): void {
    this.saveView(change);
    this.context.axis = this.view.axis;
    this.context.smoothing = this.view.smoothing;
    this.grid.invalidate();
  }

  private saveView(change: Partial<ViewState>): void {
    Object.assign(this.view, change);
    this.host.saveView(this.view);
  }
}
