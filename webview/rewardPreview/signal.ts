/** The dry run's signal report above the table: will the groups teach anything, and why not. */
import type { DryRunReport } from '../../src/previews/core/rewardPreviewProtocol';
import { h } from '../shared/dom';
import { l10n } from '../shared/l10n';

const percent = (x: number) => `${Math.round(x * 100)}%`;
const number = (x: number | null) => (x === null ? '—' : Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3));

export function renderSignal(report: DryRunReport): HTMLElement {
  const { signal, drivers } = report;
  const stat = (label: string, value: string, bad: boolean) =>
    h(
      'div',
      { className: `stat${bad ? ' bad' : ''}` },
      h('span', { className: 'stat-value' }, value),
      h('span', { className: 'stat-label' }, label),
    );
  const stats = h(
    'div',
    { className: 'stats' },
    stat(
      l10n.t('groups without learning signal (frac_reward_zero_std)'),
      percent(signal.frac_reward_zero_std),
      signal.frac_reward_zero_std >= 0.5,
    ),
    stat(
      l10n.t('truncated at max_completion_length={0}', report.maxCompletionLength),
      percent(signal.clipped_ratio),
      signal.clipped_ratio >= 0.5,
    ),
    stat(l10n.t('mean completion length (tokens)'), signal.mean_length.toFixed(1), false),
  );
  const head = [
    l10n.t('reward'),
    'mean',
    'std',
    'min',
    'max',
    l10n.t('zero-std groups'),
    'None',
    l10n.t('share of the advantage'),
    l10n.t('correlation with the advantage'),
  ];
  const table = h(
    'table',
    { className: 'signal-table' },
    h('thead', {}, h('tr', {}, ...head.map((label) => h('th', {}, label)))),
    h(
      'tbody',
      {},
      ...Object.entries(signal.per_function).map(([name, f]) =>
        h(
          'tr',
          { className: f.frac_zero_std >= 1 || f.frac_none >= 1 ? 'dead' : '' },
          h('td', {}, name),
          ...[f.mean, f.std, f.min, f.max].map((v) => h('td', { className: 'num' }, number(v))),
          h('td', { className: 'num' }, percent(f.frac_zero_std)),
          h('td', { className: 'num' }, percent(f.frac_none)),
          h('td', { className: 'num' }, percent(drivers.share[name] ?? 0)),
          h('td', { className: 'num' }, number(drivers.correlation[name] ?? null)),
        ),
      ),
    ),
  );
  const pairs = drivers.pairs.length
    ? h(
        'table',
        { className: 'signal-table pairs', attrs: { 'aria-label': l10n.t('Within-group correlation between rewards') } },
        h('caption', {}, l10n.t('Within-group correlation between rewards')),
        h(
          'tbody',
          {},
          ...drivers.pairs.map(({ a, b, r }) => h('tr', {}, h('td', {}, `${a} ~ ${b}`), h('td', { className: 'num' }, number(r)))),
        ),
      )
    : undefined;
  const findings = report.findings.length
    ? h(
        'ul',
        { className: 'findings' },
        ...report.findings.map((f) => h('li', { className: `finding ${f.severity}` }, h('code', {}, f.code), ' ', f.message)),
      )
    : h('p', { className: 'findings-none' }, l10n.t('Every reward varies within the groups: the first step has a learning signal.'));
  return h(
    'section',
    { className: 'signal-report', attrs: { 'aria-label': l10n.t('Dry run signal report') } },
    h(
      'h2',
      {},
      report.sampledBy === 'onnx'
        ? l10n.t(
            'Dry run of {0}: {1}, {2} completions per prompt, sampled in the editor from its ONNX export and scored by the rewards',
            report.config,
            report.model,
            report.numGenerations,
          )
        : l10n.t(
            'Dry run of {0}: {1}, {2} completions per prompt, as TRL sampled and scored them',
            report.config,
            report.model,
            report.numGenerations,
          ),
    ),
    ...(report.firstGroupOf
      ? [
          h(
            'p',
            { className: 'signal-partial', attrs: { role: 'status' } },
            report.firstGroupOf === 2
              ? l10n.t('The first prompt’s group only: the other prompt is being sampled.')
              : l10n.t('The first prompt’s group only: the other {0} prompts are being sampled.', report.firstGroupOf - 1),
          ),
        ]
      : []),
    stats,
    table,
    ...(pairs ? [pairs] : []),
    findings,
  );
}
