import emojiRegex from 'emoji-regex';

const EMOJI = emojiRegex();

/** Length as Python's `len` counts it: code points, so an emoji is 1 where `.length` says 2. */
export function pythonLength(text: string): number {
  return Array.from(text).length;
}

/** Text nodes and `<span class="emoji">` elements for the emoji in `text`. */
export function withEmojiHighlighted(text: string): Node[] {
  const nodes: Node[] = [];
  let last = 0;
  for (const match of text.matchAll(EMOJI)) {
    const start = match.index ?? 0;
    if (start > last) nodes.push(document.createTextNode(text.slice(last, start)));
    const span = document.createElement('span');
    span.className = 'emoji';
    span.textContent = match[0];
    nodes.push(span);
    last = start + match[0].length;
  }
  if (last < text.length) nodes.push(document.createTextNode(text.slice(last)));
  return nodes;
}

const NUMBER = new Intl.NumberFormat('en-US', {
  maximumFractionDigits: 3,
  minimumFractionDigits: 3,
  signDisplay: 'negative',
});

/** A reward or statistic for display; None (Python's) where absent. */
export function formatNumber(value: number | null): string {
  return value === null ? 'None' : NUMBER.format(value);
}
