import type { PreviewData, PreviewFunction, PreviewGroup, PreviewRow } from '../../src/previews/core/rewardPreviewProtocol';
import { h } from '../shared/dom';
import { l10n } from '../shared/l10n';
import { formatNumber, pythonLength, withEmojiHighlighted } from '../shared/text';

/** A column to sort by; a number is the index of a reward function. */
export type SortColumn = 'line' | 'completion' | 'length' | 'total' | 'advantage' | number;

export interface Sort {
  column: SortColumn;
  descending: boolean;
}

export interface TableHandlers {
  onSort(column: SortColumn): void;
  onReveal(row: PreviewRow): void;
}

const noSignalWarning = () => l10n.t('no learning signal (reward std = 0)');

/** Rows whose completion or prompt contains `filter` (case-insensitive). */
export function filterRows(rows: PreviewRow[], filter: string): PreviewRow[] {
  const needle = filter.trim().toLocaleLowerCase();
  if (!needle) return rows;
  return rows.filter((row) => row.completion.toLocaleLowerCase().includes(needle) || row.prompt.toLocaleLowerCase().includes(needle));
}

function sortValue(row: PreviewRow, column: SortColumn): number | string | null {
  switch (column) {
    case 'line':
      return row.line;
    case 'completion':
      return row.completion;
    case 'length':
      return pythonLength(row.completion);
    case 'total':
      return row.total;
    case 'advantage':
      return row.advantage;
    default:
      return row.rewards[column];
  }
}

/** Sorted copy; missing values (None) always last, whatever the direction. */
function sortRows(rows: PreviewRow[], sort: Sort): PreviewRow[] {
  const direction = sort.descending ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = sortValue(a, sort.column);
    const y = sortValue(b, sort.column);
    if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
    const order = typeof x === 'string' ? x.localeCompare(String(y)) : x - (y as number);
    return order * direction || a.line - b.line;
  });
}

function sortableHeader(label: string, column: SortColumn, sort: Sort, handlers: TableHandlers, title?: string): HTMLTableCellElement {
  const button = h('button', { className: 'sort', attrs: { type: 'button' } }, label);
  button.addEventListener('click', () => handlers.onSort(column));
  const cell = h('th', { attrs: { scope: 'col', ...(title ? { title } : {}) } }, button);
  if (sort.column === column) cell.setAttribute('aria-sort', sort.descending ? 'descending' : 'ascending');
  return cell;
}

const formatMs = (ms: number) => `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;

/** The completion column, which takes the width the number columns leave. */
function wide(cell: HTMLTableCellElement): HTMLTableCellElement {
  cell.classList.add('wide');
  return cell;
}

function functionHeader(fn: PreviewFunction, k: number, sort: Sort, handlers: TableHandlers): HTMLTableCellElement {
  const cell = sortableHeader(fn.name, k, sort, handlers, fn.error);
  cell.classList.add('number');
  const details = [`× ${fn.weight}`, fn.ms === undefined ? '' : formatMs(fn.ms)].filter(Boolean).join(' · ');
  cell.append(h('div', { className: 'detail' }, details));
  if (fn.error) {
    cell.classList.add('failed');
    cell.append(h('div', { className: 'detail error' }, l10n.t('failed')));
  }
  return cell;
}

function headerRow(data: PreviewData, sort: Sort, handlers: TableHandlers): HTMLTableRowElement {
  return h(
    'tr',
    {},
    sortableHeader(l10n.t('line'), 'line', sort, handlers),
    wide(sortableHeader(l10n.t('completion'), 'completion', sort, handlers)),
    sortableHeader('len', 'length', sort, handlers, l10n.t('Python len(): code points')),
    ...data.functions.map((fn, k) => functionHeader(fn, k, sort, handlers)),
    sortableHeader(l10n.t('total'), 'total', sort, handlers, l10n.t('weighted sum of the rewards')),
    sortableHeader(l10n.t('advantage'), 'advantage', sort, handlers),
  );
}

function groupHeader(group: PreviewGroup, prompt: string, columns: number): HTMLTableRowElement {
  const stats = [
    l10n.t('Group {0}', group.index + 1),
    l10n.t('{0} completions', group.size),
    `${l10n.t('mean')} ${group.mean === null ? '—' : formatNumber(group.mean)}`,
    `std ${group.std === null ? '—' : formatNumber(group.std)}`,
  ].join(' · ');
  const title = h('div', { className: 'group-title' }, h('span', { className: 'group-stats' }, stats));
  if (group.zeroStd) title.append(h('span', { className: 'warning', attrs: { role: 'note' } }, `⚠ ${noSignalWarning()}`));
  const header = h(
    'th',
    { attrs: { colspan: String(columns), scope: 'rowgroup' } },
    title,
    h('div', { className: 'prompt', attrs: { title: prompt } }, prompt),
  );
  return h('tr', { className: 'group-header' }, header);
}

function numberCell(value: number | null, className = ''): HTMLTableCellElement {
  const classes = ['number', className, value === null ? 'none' : ''].filter(Boolean).join(' ');
  return h('td', { className: classes }, formatNumber(value));
}

function advantageClass(advantage: number): string {
  if (advantage > 0) return 'positive';
  return advantage < 0 ? 'negative' : '';
}

function sampleRow(row: PreviewRow, handlers: TableHandlers): HTMLTableRowElement {
  const completion = h('div', { className: 'completion', attrs: { title: row.completion } }, ...withEmojiHighlighted(row.completion));
  const tr = h(
    'tr',
    { className: 'sample', attrs: { tabindex: '0', 'data-line': String(row.line), title: `Open line ${row.line} of the samples file` } },
    h('td', { className: 'number line' }, String(row.line)),
    h('td', { className: 'wide' }, completion),
    h('td', { className: 'number' }, String(pythonLength(row.completion))),
    ...row.rewards.map((value) => numberCell(value)),
    numberCell(row.total, 'total'),
    numberCell(row.advantage, `advantage ${advantageClass(row.advantage)}`),
  );
  tr.addEventListener('click', () => handlers.onReveal(row));
  tr.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter' && event.key !== ' ') return;
    event.preventDefault();
    handlers.onReveal(row);
  });
  return tr;
}

/**
 * The completions × reward functions table: one `<tbody>` per GRPO group (header with mean, std
 * and the zero-std warning), rows sorted within their group. Groups without visible rows are left out.
 */
export function renderTable(data: PreviewData, rows: PreviewRow[], sort: Sort, handlers: TableHandlers): HTMLTableElement {
  const columns = data.functions.length + 5;
  const table = h('table', { className: 'rewards' }, h('thead', {}, headerRow(data, sort, handlers)));
  for (const group of data.groups) {
    const members = rows.filter((row) => row.group === group.index);
    if (members.length === 0) continue;
    const prompt = data.rows.find((row) => row.group === group.index)?.prompt ?? '';
    const body = h('tbody', { className: group.zeroStd ? 'group zero-std' : 'group' }, groupHeader(group, prompt, columns));
    body.append(...sortRows(members, sort).map((row) => sampleRow(row, handlers)));
    table.append(body);
  }
  return table;
}
