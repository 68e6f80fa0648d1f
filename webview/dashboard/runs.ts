import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import { h } from '../shared/dom';
import { l10n } from '../shared/l10n';
import type { RunData } from './model';
import { shortDuration } from '../../src/shared/numbers';

export interface RunHandlers {
  onStop(run: RunData): void;
  onResume(run: RunData): void;
  onExportCsv(run: RunData): void;
}

function statusText(run: RunData): string {
  switch (run.info.status) {
    case 'running':
      return run.stopRequested ? l10n.t('stopping…') : l10n.t('running');
    case 'finished':
      return l10n.t('finished');
    case 'stopped':
      return l10n.t('stopped');
    case 'failed':
      return l10n.t('failed');
  }
}

function progressText(run: RunData): string {
  if (run.step === undefined) return '';
  const step = run.maxSteps ? l10n.t('step {0} / {1}', run.step, run.maxSteps) : l10n.t('step {0}', run.step);
  return run.eta === undefined ? step : `${step} · ${l10n.t('ETA {0}', shortDuration(run.eta))}`;
}

/** One run in the runs bar: its color (the legend of every chart), status, progress and actions. */
class RunChip {
  readonly element: HTMLElement;
  private readonly swatch = h('span', { className: 'swatch' });
  private readonly status = h('span', { className: 'status' });
  private readonly progressLabel = h('span', { className: 'progress-label' });
  private readonly progress = h('vscode-progress-bar', { className: 'progress' });
  private readonly stop = h('vscode-button', { className: 'stop', attrs: { secondary: '' } }, l10n.t('Stop'));
  private readonly resume = h('vscode-button', { className: 'resume', attrs: { secondary: '' } }, l10n.t('Resume'));
  /** Why a failed run failed, where the user looks: the last line of its error (all of it on hover). */
  private readonly cause = h('div', { className: 'cause', attrs: { role: 'alert' } });

  constructor(
    private readonly run: RunData,
    handlers: RunHandlers,
  ) {
    const csv = h('vscode-button', { className: 'export-csv', attrs: { secondary: '' } }, l10n.t('Export CSV'));
    this.stop.addEventListener('click', () => {
      this.stop.disabled = true; // until the runner confirms (stop_requested) or the run ends
      handlers.onStop(run);
    });
    this.resume.addEventListener('click', () => handlers.onResume(run));
    csv.addEventListener('click', () => handlers.onExportCsv(run));
    this.progress.ariaLabel = l10n.t('Training progress');
    const name = h('strong', { className: 'run-name' }, run.info.name);
    this.element = h(
      'div',
      { className: 'run', attrs: { role: 'listitem', 'data-run': run.info.id } },
      this.swatch,
      name,
      this.status,
      h('span', { className: 'progress-cell' }, this.progressLabel, this.progress),
      h('span', { className: 'actions' }, this.stop, this.resume, csv),
      this.cause,
    );
  }

  update(color: string): void {
    const { run } = this;
    this.swatch.style.backgroundColor = color;
    this.status.textContent = statusText(run);
    this.status.className = `status ${run.info.status}`;
    this.status.title = run.error ?? '';
    this.progressLabel.textContent = progressText(run);
    const running = run.info.status === 'running';
    this.progress.hidden = !running || !run.maxSteps;
    if (running && run.maxSteps) {
      this.progress.max = run.maxSteps;
      this.progress.value = run.step ?? 0;
    }
    this.stop.hidden = !running || run.stopRequested;
    this.resume.hidden = !run.info.resumable || (run.info.status !== 'stopped' && run.info.status !== 'failed');
    const cause = run.info.status === 'failed' ? lastLine(run.error) : undefined;
    this.cause.hidden = !cause;
    this.cause.textContent = cause ? l10n.t('Failed: {0}', cause) : '';
    this.cause.title = run.error ?? '';
  }
}

/** The line of a traceback that says what happened (its last non-empty one). */
function lastLine(text: string | undefined): string | undefined {
  return text
    ?.split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .at(-1);
}

/** The runs shown, one chip each. */
export class RunsBar {
  readonly element: HTMLElement;
  private readonly chips: Map<RunData, RunChip>;

  constructor(runs: readonly RunData[], handlers: RunHandlers) {
    this.chips = new Map(runs.map((run) => [run, new RunChip(run, handlers)]));
    this.element = h('div', { className: 'runs', attrs: { role: 'list' } }, ...[...this.chips.values()].map((chip) => chip.element));
  }

  update(run: RunData, color: string): void {
    this.chips.get(run)?.update(color);
  }
}
