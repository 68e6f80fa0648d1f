import { h } from '../shared/dom';
import { ChartCard, type ChartContext } from './chartCard';
import { compareMetrics, compareSections, sectionOf } from './sections';

/** How far outside the viewport a chart is still drawn, so scrolling shows it ready. */
const MARGIN_PX = 200;
/** Drawing stops for this frame once it took this long (one chart may overrun it). */
const FRAME_BUDGET_MS = 10;

function isOnScreen(element: Element): boolean {
  const rect = element.getBoundingClientRect();
  return rect.width > 0 && rect.bottom > -MARGIN_PX && rect.top < window.innerHeight + MARGIN_PX;
}

/** Inserts `child` among `parent`'s children, which are kept sorted by `keyOf` and `compare`. */
function insertSorted(parent: Element, child: HTMLElement, keyOf: (e: Element) => string, compare: (a: string, b: string) => number): void {
  const key = keyOf(child);
  const next = [...parent.children].find((sibling) => compare(key, keyOf(sibling)) < 0);
  parent.insertBefore(child, next ?? null);
}

/** Card order on the page: the painter draws from the top. */
const byPosition = (a: ChartCard, b: ChartCard) =>
  a.element.compareDocumentPosition(b.element) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1;

/**
 * Every metric that arrived, one chart each, in sections by prefix. Only charts on screen are
 * drawn (an IntersectionObserver tells which; the others catch up when scrolled to), once per
 * animation frame however many events came, and no more of them per frame than fit in
 * `FRAME_BUDGET_MS`: the rest wait for the next frame, so the page stays fluid.
 */
export class ChartGrid {
  readonly element = h('div', { className: 'sections' });
  private readonly cards = new Map<string, ChartCard>();
  private readonly byElement = new Map<Element, ChartCard>();
  private readonly dirty = new Set<ChartCard>();
  private frame = 0;
  private readonly observer = new IntersectionObserver(
    (entries) => {
      for (const entry of entries) {
        const card = this.byElement.get(entry.target);
        if (card) card.visible = entry.isIntersecting;
        if (card?.visible && card.pending) this.dirty.add(card);
      }
      this.schedule();
    },
    { rootMargin: `${MARGIN_PX}px 0px` },
  );

  constructor(
    private readonly context: () => ChartContext,
    private readonly onSavePng: (card: ChartCard) => void,
  ) {}

  get size(): number {
    return this.cards.size;
  }

  /**
   * The metrics in `keys` have new points; a metric seen for the first time gets its chart. The
   * charts of `superseded` lost points, so they are rebuilt rather than appended to.
   */
  update(keys: Iterable<string>, superseded: Iterable<string> = []): void {
    for (const key of superseded) this.cards.get(key)?.invalidate();
    const created: ChartCard[] = [];
    for (const key of new Set([...keys, ...superseded])) {
      const card = this.cards.get(key);
      if (card) {
        card.pending = true;
        if (card.visible) this.dirty.add(card);
      } else {
        created.push(this.create(key));
      }
    }
    // The observer's first report comes a frame later: measure now, so the first charts draw in the next frame.
    const onScreen = created.map((card) => isOnScreen(card.element));
    created.forEach((card, i) => {
      card.visible = onScreen[i];
      if (card.visible) this.dirty.add(card);
    });
    this.schedule();
  }

  /** Axis, smoothing, theme or colors changed: every chart is rebuilt (on screen now, the rest when shown). */
  invalidate(): void {
    for (const card of this.cards.values()) {
      card.invalidate();
      if (card.visible) this.dirty.add(card);
    }
    this.schedule();
  }

  dispose(): void {
    this.observer.disconnect();
    cancelAnimationFrame(this.frame);
    for (const card of this.cards.values()) card.dispose();
  }

  private schedule(): void {
    if (!this.frame && this.dirty.size > 0) this.frame = requestAnimationFrame(() => this.paint());
  }

  private paint(): void {
    this.frame = 0;
    const start = performance.now();
    for (const card of [...this.dirty].sort(byPosition)) {
      this.dirty.delete(card);
      if (card.visible && card.pending) card.draw();
      if (performance.now() - start >= FRAME_BUDGET_MS) break;
    }
    this.schedule();
  }

  private create(key: string): ChartCard {
    const card = new ChartCard(key, this.context, this.onSavePng);
    insertSorted(this.sectionGrid(key), card.element, (e) => e.getAttribute('data-key') ?? '', compareMetrics);
    this.cards.set(key, card);
    this.byElement.set(card.element, card);
    this.observer.observe(card.element);
    return card;
  }

  private sectionGrid(key: string): Element {
    const { id, title } = sectionOf(key);
    const existing = this.element.querySelector(`:scope > [data-section="${CSS.escape(id)}"] > .chart-grid`);
    if (existing) return existing;
    const grid = h('div', { className: 'chart-grid' });
    const section = h('section', { className: 'metric-section', attrs: { 'data-section': id } }, h('h2', {}, title), grid);
    insertSorted(this.element, section, (e) => e.getAttribute('data-section') ?? '', compareSections);
    return grid;
  }
}
