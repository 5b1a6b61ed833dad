// Fitting a ladder's text into a width without losing any of it: a name too long for its column
// is wrapped onto continuation lines (which begin with CONT), preferably before a space, else
// after a '_', ':' or '(' (never inside '()'), so that the pieces stay readable and join back
// exactly; a finding's title is placed whole, on one line, where it fits.

/** How a continuation line of a wrapped name begins. */
export const CONT = '..';

const BREAK_AFTER = new Set(['_', ':', '(', ',', '.', '-', '>', '/']);
/** No piece narrower than this, whatever the room: a line may then run past its column. */
const MIN_PIECE = 6;

/** `text` in pieces of at most `width` characters, continuation pieces included. */
export function wrap(text: string, width: number): string[] {
  const room = Math.max(width, MIN_PIECE + CONT.length);
  if (text.length <= room) return [text];
  const out: string[] = [];
  let rest = text;
  let prefix = '';
  while (prefix.length + rest.length > room) {
    const fits = room - prefix.length;
    const after = (ok: (c: string, i: number) => boolean): number => {
      for (let i = fits; i > fits / 2; i--) if (ok(rest[i - 1]!, i)) return i;
      return -1;
    };
    // Before a space, which then opens the continuation (CONT + ' '), so that joining loses nothing.
    const space = after((c, i) => c === ' ' && i > 1);
    const sep = after((c, i) => BREAK_AFTER.has(c) && c !== ' ' && rest.slice(i - 1, i + 1) !== '()');
    const cut = space > 0 ? space - 1 : sep > 0 ? sep : fits;
    out.push(prefix + rest.slice(0, cut));
    rest = rest.slice(cut);
    prefix = CONT;
  }
  out.push(prefix + rest);
  return out;
}

/** Words of `text` in lines of at most `width` characters (a longer word stands alone), later lines indented. */
export function wrapWords(text: string, width: number, indent = '    '): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    const next = line === '' ? word : `${line} ${word}`;
    if (next.length > width && line.trim() !== '') {
      lines.push(line);
      line = `${indent}${word}`;
    } else line = next;
  }
  lines.push(line);
  return lines;
}

/**
 * A finding's line `^^^ title`, kept whole on one line (the title is the signature: it is never
 * cut, and stays on one line to be found by a search): at `start` when it fits in `width`, else
 * moved left as far as needed; only a title longer than the width wraps, at spaces.
 */
export function placeTitle(text: string, start: number, width: number): { start: number; lines: string[] } {
  if (start + text.length <= width) return { start, lines: [text] };
  if (text.length <= width) return { start: width - text.length, lines: [text] };
  return { start: 0, lines: wrapWords(text, width, '  ') };
}
