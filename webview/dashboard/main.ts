/**
 * Training Dashboard webview: live charts of every metric a GRPO run logs, several runs overlaid,
 * and its latest completions. The host reads each run's events.jsonl and posts `reset`, then the
 * events (the whole history first, then live batches) and status changes; this page posts
 * `stop`, `exportCsv`, `savePng` and `addToSamples` back (the host writes the files).
 */
import type { DashboardHostMessage, DashboardWebviewMessage } from '../../src/training/core/dashboardProtocol';
import { h } from '../shared/dom';
import { l10n, setBundle } from '../shared/l10n';
import { onThemeChange } from '../shared/theme';
import { X_AXES } from './axes';
import { Dashboard, type ViewState } from './dashboard';

interface VsCodeApi {
  postMessage(message: DashboardWebviewMessage): void;
  getState(): Partial<ViewState> | undefined;
  setState(state: ViewState): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();

/** The saved view, where still valid. */
function restoreView(saved: Partial<ViewState> = {}): ViewState {
  const { smoothing, axis, filter, tab } = saved;
  return {
    smoothing: typeof smoothing === 'number' && smoothing >= 0 && smoothing < 1 ? smoothing : 0.6,
    axis: axis && X_AXES.includes(axis) ? axis : 'step',
    filter: typeof filter === 'string' ? filter : '',
    tab: tab === 1 ? 1 : 0,
  };
}

const view = restoreView(vscode.getState());
const host = {
  post: (message: DashboardWebviewMessage) => vscode.postMessage(message),
  saveView: (state: ViewState) => vscode.setState(state),
};
let dashboard: Dashboard | undefined;

document.body.append(h('div', { className: 'waiting' }, l10n.t('Waiting for the training run…')));

window.addEventListener('message', (event: MessageEvent<DashboardHostMessage>) => {
  const message = event.data;
  switch (message?.type) {
    case 'reset':
      setBundle(message.strings);
      dashboard?.dispose();
      dashboard = new Dashboard(message.runs, view, host);
      document.body.replaceChildren(dashboard.element);
      break;
    case 'events':
      dashboard?.append(message.runId, message.events);
      break;
    case 'status':
      dashboard?.setStatus(message.runId, message);
      break;
  }
});
onThemeChange(() => dashboard?.themeChanged());
vscode.postMessage({ type: 'ready' });
