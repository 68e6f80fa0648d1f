import { h } from '../shared/dom';
import { l10n } from '../shared/l10n';
import type { RunData } from './model';

/** One setting whose value is not the same in every run, each run's value as text ("—" where it has none). */
export interface SettingDifference {
  key: string;
  values: string[];
}

/** The run config flattened to dotted keys (`training.learning_rate`); lists and other leaves as JSON. */
function flatten(value: unknown, prefix: string, into: Map<string, string>): void {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) flatten(inner, prefix ? `${prefix}.${key}` : key, into);
  } else if (prefix) {
    into.set(prefix, typeof value === 'string' ? value : JSON.stringify(value));
  }
}

/** The settings that differ between the runs' configs, in key order. */
export function settingsDiff(configs: readonly (Record<string, unknown> | undefined)[]): SettingDifference[] {
  const flat = configs.map((config) => {
    const map = new Map<string, string>();
    flatten(config ?? {}, '', map);
    return map;
  });
  const keys = [...new Set(flat.flatMap((map) => [...map.keys()]))].sort();
  return keys
    .map((key) => ({ key, values: flat.map((map) => map.get(key) ?? '—') }))
    .filter(({ values }) => values.some((v) => v !== values[0]));
}

/** What Compare Runs is for: the settings that differ between the overlaid runs, one column per run. */
export class SettingsDiffView {
  readonly element = h('div', { className: 'settings-diff' });

  constructor(private readonly runs: readonly RunData[]) {}

  update(colors: readonly string[]): void {
    const differences = settingsDiff(this.runs.map((run) => run.config));
    if (this.runs.some((run) => !run.config)) {
      this.element.replaceChildren(h('p', {}, l10n.t('Waiting for the settings of every run…')));
      return;
    }
    if (differences.length === 0) {
      this.element.replaceChildren(h('p', {}, l10n.t('These runs have the same settings.')));
      return;
    }
    const head = h(
      'tr',
      {},
      h('th', { attrs: { scope: 'col' } }, l10n.t('setting')),
      ...this.runs.map((run, i) => {
        const swatch = h('span', { className: 'swatch' });
        swatch.style.backgroundColor = colors[i];
        return h('th', { attrs: { scope: 'col' } }, swatch, run.info.name);
      }),
    );
    const rows = differences.map(({ key, values }) =>
      h('tr', {}, h('th', { attrs: { scope: 'row' } }, key), ...values.map((value) => h('td', { attrs: { title: value } }, value))),
    );
    this.element.replaceChildren(
      h(
        'p',
        {},
        differences.length === 1
          ? l10n.t('1 setting differs between these runs:')
          : l10n.t('{0} settings differ between these runs:', differences.length),
      ),
      h('table', { className: 'settings' }, h('thead', {}, head), h('tbody', {}, ...rows)),
    );
  }
}
