import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import { h } from '../shared/dom';
import { l10n } from '../shared/l10n';
import { X_AXES, xAxisLabel, type XAxis } from './axes';

export interface ChartOptions {
  smoothing: number;
  axis: XAxis;
}

export interface ControlHandlers {
  onSmoothing(smoothing: number): void;
  onAxis(axis: XAxis): void;
}

function labelled(label: string, ...controls: HTMLElement[]): HTMLLabelElement {
  return h('label', { className: 'field' }, h('span', { className: 'field-label' }, label), ...controls);
}

/**
 * Smoothing (the EMA weight, 0 to 0.99) and the x axis. Dragging the slider reports at most once
 * per frame: each report rebuilds the visible charts.
 */
export function createControls(initial: ChartOptions, handlers: ControlHandlers): HTMLElement {
  const slider = h('input', { attrs: { id: 'smoothing', type: 'range', min: '0', max: '0.99', step: '0.01' } });
  slider.value = String(initial.smoothing);
  const value = h('output', { className: 'smoothing-value', attrs: { for: 'smoothing' } });
  const showValue = () => (value.textContent = Number(slider.value).toFixed(2));
  showValue();
  let frame = 0;
  slider.addEventListener('input', () => {
    showValue();
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(() => handlers.onSmoothing(Number(slider.value)));
  });

  const axis = h('vscode-single-select', { attrs: { id: 'x-axis' } });
  axis.append(...X_AXES.map((id) => h('vscode-option', { attrs: { value: id } }, xAxisLabel(id))));
  axis.value = initial.axis;
  axis.addEventListener('change', () => handlers.onAxis(axis.value as XAxis));

  return h(
    'div',
    { className: 'chart-options' },
    labelled(l10n.t('Smoothing'), h('span', { className: 'slider' }, slider, value)),
    labelled(l10n.t('X axis'), axis),
  );
}
