import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { CompletionRow, CompletionsEvent, PromptValue, SampleRow } from '../../src/training/core/dashboardProtocol';
import { h } from '../shared/dom';
import { l10n } from '../shared/l10n';
import { formatNumber, withEmojiHighlighted } from '../shared/text';
import type { RunData } from './model';
import { append } from '../../src/shared/numbers';

/** The table keeps the latest rows only (newest first). */
const MAX_ROWS = 200;

export interface TableHandlers {
  onAddToSamples(rows: SampleRow[]): void;
  onFilter(filter: string): void;
}

interface Row {
  run: RunData;
  step: number;
  data: CompletionRow;
  /** Lower-cased prompt and completion, for the filter. */
  haystack: string;
  element: HTMLTableRowElement;
  checkbox: HTMLInputElement;
}

const isMessageList = (value: unknown): value is { role: string; content: string }[] =>
  Array.isArray(value) &&
  value.every((m) => typeof m === 'object' && m !== null && typeof m.role === 'string' && typeof m.content === 'string');

/** A prompt or completion as a samples file holds it: a string, or messages (conversational data). */
function sampleValue(value: unknown): PromptValue {
  if (typeof value === 'string') return value;
  return isMessageList(value) ? value.map(({ role, content }) => ({ role, content })) : JSON.stringify(value);
}

function displayText(value: unknown): string {
  const sample = sampleValue(value);
  return typeof sample === 'string' ? sample : sample.map((m) => m.content).join('\n');
}

const finiteOrNull = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : null);

function numberCell(value: number | null, className = ''): HTMLTableCellElement {
  return h('td', { className: ['number', className, value === null ? 'none' : ''].filter(Boolean).join(' ') }, formatNumber(value));
}

function advantageClass(advantage: number | null): string {
  if (advantage === null || advantage === 0) return '';
  return advantage > 0 ? 'positive' : 'negative';
}

/**
 * The latest completions of every run with their rewards per function and advantage: a filter,
 * checkboxes, and "Add to samples" for the selected rows. New rows are prepended; nothing already
 * shown is redrawn unless a new reward function brings a column.
 */
export class CompletionsTable {
  readonly element: HTMLElement;
  private rows: Row[] = [];
  private readonly selected = new Set<Row>();
  private functions: string[] = [];
  private needle = '';
  private readonly table = h('table', { className: 'completions' });
  private readonly body = h('tbody');
  private readonly selectAll = h('input', { attrs: { type: 'checkbox', id: 'select-all', 'aria-label': l10n.t('Select all shown') } });
  private readonly addButton = h('vscode-button', { attrs: { id: 'add-to-samples' } });
  private readonly empty = h('div', { className: 'empty' }, l10n.t('No completions yet.'));

  constructor(
    filter: string,
    multipleRuns: boolean,
    private readonly handlers: TableHandlers,
  ) {
    const filterField = h('vscode-textfield', {
      attrs: { id: 'completion-filter', type: 'search', placeholder: l10n.t('Filter completions') },
    });
    filterField.value = filter;
    filterField.addEventListener('input', () => {
      this.setFilter(filterField.value);
      handlers.onFilter(filterField.value);
    });
    this.needle = filter.trim().toLocaleLowerCase();
    this.selectAll.addEventListener('change', () => this.selectShown(this.selectAll.checked));
    this.addButton.addEventListener('click', () => this.addSelected());
    this.table.classList.toggle('single-run', !multipleRuns);
    this.table.append(h('thead'), this.body);
    this.renderHeader();
    this.updateSelection();
    const toolbar = h('div', { className: 'table-toolbar' }, filterField, this.addButton);
    this.element = h('div', { className: 'completions-view' }, toolbar, this.empty, this.table);
    this.table.hidden = true;
  }

  /** Appends the rows of `events` (in log order) for `run`. */
  add(run: RunData, events: readonly CompletionsEvent[]): void {
    const batches: Row[][] = [];
    let count = 0;
    for (let i = events.length - 1; i >= 0 && count < MAX_ROWS; i--) {
      const rows = events[i].rows.map((data) => this.createRow(run, events[i].step, data));
      batches.push(rows);
      count += rows.length;
    }
    const fresh = batches.flat().slice(0, MAX_ROWS);
    if (fresh.length === 0) return;
    const names = new Set(fresh.flatMap((row) => Object.keys(row.data.rewards ?? {})));
    const newFunctions = [...names].filter((name) => !this.functions.includes(name));
    // The newest MAX_ROWS stay, and every ticked row with them until it is added or unticked.
    const rows = [...fresh, ...this.rows];
    this.rows = rows.slice(0, MAX_ROWS);
    for (const row of rows.slice(MAX_ROWS)) {
      if (this.selected.has(row)) this.rows.push(row);
      else row.element.remove();
    }
    if (newFunctions.length) {
      append(this.functions, newFunctions);
      this.renderHeader();
      this.body.replaceChildren(...this.rows.map((row) => this.renderRow(row)));
    } else {
      this.body.prepend(...fresh.map((row) => this.renderRow(row)));
    }
    this.table.hidden = false;
    this.empty.hidden = true;
    this.updateSelection();
  }

  private createRow(run: RunData, step: number, data: CompletionRow): Row {
    const haystack = `${displayText(data.prompt)}\n${displayText(data.completion)}`.toLocaleLowerCase();
    const checkbox = h('input', { attrs: { type: 'checkbox', 'aria-label': l10n.t('Select') } });
    const row: Row = { run, step, data, haystack, checkbox, element: h('tr') };
    checkbox.addEventListener('change', () => {
      if (checkbox.checked) this.selected.add(row);
      else this.selected.delete(row);
      this.updateSelection();
    });
    return row;
  }

  private renderHeader(): void {
    const th = (label: string, className = '') => h('th', { className, attrs: { scope: 'col' } }, label);
    const header = h(
      'tr',
      {},
      h('th', { className: 'select' }, this.selectAll),
      th(l10n.t('run'), 'run'),
      th(l10n.t('step'), 'number'),
      th(l10n.t('prompt'), 'prompt-column'),
      th(l10n.t('completion'), 'wide'),
      ...this.functions.map((name) => th(name, 'number')),
      th(l10n.t('advantage'), 'number'),
    );
    this.table.tHead?.replaceChildren(header);
  }

  private renderRow(row: Row): HTMLTableRowElement {
    const { data } = row;
    const prompt = displayText(data.prompt);
    const completion = displayText(data.completion);
    const rewards = data.rewards ?? {};
    const advantage = finiteOrNull(data.advantage);
    row.element.replaceChildren(
      h('td', { className: 'select' }, row.checkbox),
      h('td', { className: 'run' }, row.run.info.name),
      h('td', { className: 'number' }, String(row.step)),
      h('td', { className: 'prompt-column' }, h('div', { className: 'prompt', attrs: { title: prompt } }, prompt)),
      h(
        'td',
        { className: 'wide' },
        h('div', { className: 'completion', attrs: { title: completion } }, ...withEmojiHighlighted(completion)),
      ),
      ...this.functions.map((name) => (name in rewards ? numberCell(finiteOrNull(rewards[name])) : h('td'))),
      numberCell(advantage, `advantage ${advantageClass(advantage)}`),
    );
    row.element.hidden = !this.matches(row);
    return row.element;
  }

  private matches(row: Row): boolean {
    return this.needle === '' || row.haystack.includes(this.needle);
  }

  private setFilter(filter: string): void {
    this.needle = filter.trim().toLocaleLowerCase();
    for (const row of this.rows) row.element.hidden = !this.matches(row);
    this.updateSelection();
  }

  private selectShown(select: boolean): void {
    for (const row of this.rows) {
      if (row.element.hidden) continue;
      row.checkbox.checked = select;
      if (select) this.selected.add(row);
      else this.selected.delete(row);
    }
    this.updateSelection();
  }

  private updateSelection(): void {
    const shown = this.rows.filter((row) => !row.element.hidden);
    const selectedShown = shown.filter((row) => this.selected.has(row)).length;
    this.selectAll.checked = shown.length > 0 && selectedShown === shown.length;
    this.selectAll.indeterminate = selectedShown > 0 && selectedShown < shown.length;
    const n = this.selected.size;
    this.addButton.textContent = n ? l10n.t('Add {0} to samples', n) : l10n.t('Add to samples');
    this.addButton.disabled = n === 0;
  }

  private addSelected(): void {
    const rows = this.rows.filter((row) => this.selected.has(row));
    if (rows.length === 0) return;
    this.handlers.onAddToSamples(rows.map(({ data }) => ({ prompt: sampleValue(data.prompt), completion: sampleValue(data.completion) })));
    for (const row of rows) row.checkbox.checked = false;
    this.selected.clear();
    this.updateSelection();
  }
}
