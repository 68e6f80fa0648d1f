import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/index.js';
import type { VscodeTextfield } from '@vscode-elements/elements/dist/vscode-textfield/index.js';
import {
  AGGREGATIONS,
  SCALE_REWARDS,
  type PreviewData,
  type PreviewFunction,
  type PreviewOptions,
} from '../../src/previews/core/rewardPreviewProtocol';
import { h } from '../shared/dom';
import { l10n } from '../shared/l10n';

export interface ControlHandlers {
  /** The user changed scale_rewards, the aggregation or a weight (all weights valid). */
  onOptions(options: PreviewOptions & { weights: number[] }): void;
  onFilter(filter: string): void;
  onStacked(stacked: boolean): void;
}

export interface Controls {
  /** Shows the options and weights the host used for `data`. */
  update(data: PreviewData): void;
}

function labelled(label: string, control: HTMLElement, className = 'field'): HTMLLabelElement {
  return h('label', { className }, h('span', { className: 'field-label' }, label), control);
}

function select(id: string, values: readonly string[]): VscodeSingleSelect {
  const element = h('vscode-single-select', { attrs: { id } });
  element.append(...values.map((value) => h('vscode-option', { attrs: { value } }, value)));
  return element;
}

function textfield(id: string, type: 'number' | 'search', placeholder = ''): VscodeTextfield {
  return h('vscode-textfield', { attrs: { id, type, placeholder } });
}

/** The toolbar: scale_rewards, aggregation, one weight per function, the filter and the chart mode. */
export function createControls(parent: HTMLElement, initial: { filter: string; stacked: boolean }, handlers: ControlHandlers): Controls {
  const scaleRewards = select('scale-rewards', SCALE_REWARDS);
  const aggregation = select('aggregation', AGGREGATIONS);
  const weights = h('div', { className: 'weights' });
  const filter = textfield('filter', 'search');
  filter.value = initial.filter;
  const stacked = h('vscode-checkbox', { attrs: { id: 'stacked' } });
  stacked.checked = initial.stacked;
  const filterLabel = h('span', { className: 'field-label' });
  // The host's translations arrive with the first update; until then these read in English.
  const label = () => {
    filter.placeholder = l10n.t('Filter completions');
    stacked.label = l10n.t('Stack rewards per function');
    filterLabel.textContent = l10n.t('filter');
  };
  label();

  let functionNames = '';
  let weightFields: VscodeTextfield[] = [];

  const readWeights = (): number[] | undefined => {
    const values = weightFields.map((field) => (field.value.trim() === '' ? NaN : Number(field.value)));
    weightFields.forEach((field, k) => (field.invalid = !Number.isFinite(values[k])));
    return values.every(Number.isFinite) ? values : undefined;
  };
  const postOptions = () => {
    const values = readWeights();
    if (!values) return;
    handlers.onOptions({
      scaleRewards: scaleRewards.value as PreviewOptions['scaleRewards'],
      aggregation: aggregation.value as PreviewOptions['aggregation'],
      weights: values,
    });
  };
  const buildWeightFields = (functions: PreviewFunction[]) => {
    weightFields = functions.map((_, k) => {
      const field = textfield(`weight-${k}`, 'number');
      field.classList.add('weight');
      field.addEventListener('change', postOptions);
      return field;
    });
    weights.replaceChildren(...weightFields.map((field, k) => labelled(`w · ${functions[k].name}`, field)));
  };

  scaleRewards.addEventListener('change', postOptions);
  aggregation.addEventListener('change', postOptions);
  filter.addEventListener('input', () => handlers.onFilter(filter.value));
  stacked.addEventListener('change', () => handlers.onStacked(stacked.checked));

  parent.append(
    h('div', { className: 'options' }, labelled('scale_rewards', scaleRewards), labelled('aggregation', aggregation), weights),
    h('div', { className: 'view-options' }, h('label', { className: 'field' }, filterLabel, filter), stacked),
  );

  return {
    update(data) {
      label();
      scaleRewards.value = data.options.scaleRewards;
      aggregation.value = data.options.aggregation;
      const names = JSON.stringify(data.functions.map((fn) => fn.name));
      if (names !== functionNames) buildWeightFields(data.functions);
      functionNames = names;
      data.functions.forEach((fn, k) => {
        const field = weightFields[k];
        if (field === document.activeElement) return; // the user is typing in it
        field.value = String(fn.weight);
        field.invalid = false;
      });
    },
  };
}
