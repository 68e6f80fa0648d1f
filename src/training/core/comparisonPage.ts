import { escapeHtml, staticPageCsp } from '../../shared/html';
import { formatScore, type ComparisonRow, type Side, type Winner } from './comparison';

/** The comparison as a static page (no script): prompts, both answers, their scores and the winner. */

export interface ComparisonPage {
  rows: ComparisonRow[];
  rewardNames: string[];
  title: string;
  /** Column headings, e.g. the base model's and the checkpoint's names. */
  baseLabel: string;
  trainedLabel: string;
  /** Lines above the table (run, settings); plain text. */
  details?: string[];
  /** Problems to show (a reward that failed, one that could not be loaded). */
  warnings?: string[];
  /** `vscode.env.language`. */
  language?: string;
  /** Translated words of the page (English by default). */
  labels?: Partial<Record<'prompt' | 'reward' | 'total' | 'higher' | 'none' | 'summary' | 'mean', string>>;
}

const STYLE = `
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); background: var(--vscode-editor-background); padding: 0 16px 24px; }
h1 { font-size: 1.3em; font-weight: 600; }
.details, .summary { color: var(--vscode-descriptionForeground); margin: 2px 0; }
.warning { color: var(--vscode-editorWarning-foreground); margin: 2px 0; }
section { border-top: 1px solid var(--vscode-panel-border); padding: 12px 0; }
.prompt { font-weight: 600; white-space: pre-wrap; overflow-wrap: anywhere; margin-bottom: 8px; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
.answer { border: 1px solid var(--vscode-panel-border); border-radius: 4px; padding: 8px; min-width: 0; }
.answer.higher { border-color: var(--vscode-charts-green); }
.side { font-size: 0.9em; color: var(--vscode-descriptionForeground); margin-bottom: 4px; overflow-wrap: anywhere; }
.text { font-family: var(--vscode-editor-font-family); white-space: pre-wrap; overflow-wrap: anywhere; background: var(--vscode-textCodeBlock-background); padding: 6px; border-radius: 3px; }
table { border-collapse: collapse; margin-top: 6px; font-variant-numeric: tabular-nums; }
td, th { padding: 1px 8px 1px 0; text-align: left; font-weight: normal; }
td.num { text-align: right; }
tr.total td, tr.total th { font-weight: 600; border-top: 1px solid var(--vscode-panel-border); }
.answer-total { font-size: 0.9em; color: var(--vscode-descriptionForeground); margin: 2px 0 8px; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-size: 0.9em; color: var(--vscode-descriptionForeground); }
td.higher { color: var(--vscode-charts-green); font-weight: 600; }
td.higher::after { content: ' ▲'; }
td.lower { color: var(--vscode-descriptionForeground); }
`;

export function renderComparisonHtml(page: ComparisonPage): string {
  const labels = {
    prompt: 'Prompt',
    reward: 'Reward',
    total: 'Total',
    higher: 'higher',
    none: 'None or failed',
    summary: 'Mean total: {0} → {1}; trained higher on {2}, base higher on {3}, tied on {4} of {5} prompts.',
    mean: 'Mean of {0} answers',
    ...page.labels,
  };
  const mark = (w: Winner, side: Side) => (w === side ? 'higher' : w && w !== 'tie' ? 'lower' : '');
  const scoreCell = (value: number | null, w: Winner, side: Side) => {
    const cls = ['num', mark(w, side)].filter(Boolean).join(' ');
    return `<td class="${cls}"${value === null ? ` title="${escapeHtml(labels.none)}"` : ''}>${escapeHtml(formatScore(value))}</td>`;
  };
  const answer = (row: ComparisonRow, side: Side, label: string) => {
    const cell = row[side];
    const rewards = page.rewardNames
      .map((name, k) => `<tr><th>${escapeHtml(name)}</th>${scoreCell(cell.scores[k], row.perReward[k], side)}</tr>`)
      .join('');
    const several = cell.answers.length > 1;
    const texts = cell.answers
      .map(
        (a) =>
          `<div class="text">${escapeHtml(a.text)}</div>` +
          (several ? `<p class="answer-total">${escapeHtml(labels.total)} ${escapeHtml(formatScore(a.total))}</p>` : ''),
      )
      .join('\n');
    const caption = several ? `<caption>${escapeHtml(labels.mean.replace('{0}', String(cell.answers.length)))}</caption>` : '';
    return `<div class="answer ${side}${row.total === side ? ' higher' : ''}">
<div class="side">${escapeHtml(label)}</div>
${texts}
<table>${caption}<tbody>${rewards}<tr class="total"><th>${escapeHtml(labels.total)}</th>${scoreCell(cell.total, row.total, side)}</tr></tbody></table>
</div>`;
  };
  const sections = page.rows
    .map(
      (row, i) => `<section>
<div class="prompt">${i + 1}. ${escapeHtml(row.prompt)}</div>
<div class="pair">
${answer(row, 'base', page.baseLabel)}
${answer(row, 'trained', page.trainedLabel)}
</div>
</section>`,
    )
    .join('\n');
  const mean = (side: Side) => {
    const values = page.rows.map((r) => r[side].total).filter((v): v is number => v !== null);
    return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
  };
  const count = (w: Winner) => String(page.rows.filter((r) => r.total === w).length);
  const summary = [
    formatScore(mean('base')),
    formatScore(mean('trained')),
    count('trained'),
    count('base'),
    count('tie'),
    String(page.rows.length),
  ].reduce((text, value, k) => text.replace(`{${k}}`, value), labels.summary);
  return `<!DOCTYPE html>
<html lang="${escapeHtml(page.language ?? 'en')}">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(staticPageCsp(STYLE))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(page.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(page.title)}</h1>
${(page.details ?? []).map((d) => `<p class="details">${escapeHtml(d)}</p>`).join('\n')}
${(page.warnings ?? []).map((w) => `<p class="warning">${escapeHtml(w)}</p>`).join('\n')}
<p class="summary">${escapeHtml(summary)}</p>
${sections}
</body>
</html>
`;
}
