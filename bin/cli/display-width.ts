/**
 * The columns text takes on a terminal, by string-width (East Asian wide characters and emoji take two, combining
 * marks and zero-width characters none), and padding or cutting to a width without splitting a character.
 */
import { createRequire } from 'node:module';

type StringWidth = typeof import('string-width').default;

// string-width (and its emoji and East Asian tables) is loaded at the first text that is not printable ASCII: it
// costs ~20 ms of every command's start, and most output (table names, counts, times) is plain ASCII, whose width
// is its length. require() of an ES module is synchronous on the Node.js versions we support (≥ 22.12).
const requireHere = createRequire(import.meta.url);
let stringWidth: StringWidth | undefined;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

function wideAware(text: string): number {
  stringWidth ??= (requireHere('string-width') as { default: StringWidth }).default;
  return stringWidth(text);
}

// Built at the first cut: an Intl.Segmenter loads ICU's break rules, ~7 ms of a start that may never cut a text.
let segmenter: Intl.Segmenter | undefined;

/** The columns `text` takes on a terminal. */
export function displayWidth(text: string): number {
  return PRINTABLE_ASCII.test(text) ? text.length : wideAware(text);
}

/** Pads `text` to `width` columns, on the right (left-aligned) or on the left (right-aligned). */
export function padTo(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const fill = ' '.repeat(Math.max(0, width - displayWidth(text)));
  return align === 'left' ? text + fill : fill + text;
}

/** Cuts `text` to at most `width` columns, ending in `…` when cut; never inside a character. */
export function truncateTo(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  let out = '';
  let used = 0;
  segmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  for (const { segment } of segmenter.segment(text)) {
    const w = displayWidth(segment);
    if (used + w > width - 1) break;
    out += segment;
    used += w;
  }
  return `${out}…`;
}
