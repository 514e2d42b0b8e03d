/**
 * Avatars are drawn from the account's initials, not loaded from X's image host: the console makes no
 * request to any origin but its own (no third party learns who administers which account), and it
 * works the same against the simulated X. Colour comes from the X id, so it is stable per account.
 */
import { h } from './dom';

const PALETTE_SIZE = 8;

/** One or two letters: the first letters of the first two words of the name, else of the username. */
export function initialsOf(name: string, username: string): string {
  const words = (name || username).trim().split(/\s+/).filter(Boolean);
  const letters = words.slice(0, 2).map((w) => Array.from(w)[0] ?? '');
  return (letters.join('') || '?').toUpperCase();
}

function paletteIndex(seed: string): number {
  let x = 0;
  for (const ch of seed) x = (x * 31 + ch.charCodeAt(0)) >>> 0;
  return x % PALETTE_SIZE;
}

/** An avatar element with an accessible name. */
export function avatar(opts: { id: string; name: string; username: string; label: string; large?: boolean }) {
  return h(
    'span',
    {
      class: `avatar avatar-c${paletteIndex(opts.id)}${opts.large ? ' large' : ''}`,
      role: 'img',
      'aria-label': opts.label,
    },
    initialsOf(opts.name, opts.username),
  );
}
