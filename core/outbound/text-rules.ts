/**
 * Text rules checked before any call to X (X-API.md §6), so that a command X would refuse costs
 * neither a request nor a unit of the app's budget.
 */
import { parseTweet } from 'twitter-text';
import { ChannelError, invalidInput } from '../errors';

/** Weighted limit of a post or reply (twitter-text config v3: URLs 23, CJK and emoji 2, Latin 1). */
export const MAX_POST_WEIGHTED_LENGTH = 280;
/** DM text limit (legacy `dm_text_character_limit`; X-API.md §6 marks it uncertain). Counted in code points. */
export const MAX_DM_LENGTH = 10_000;

/** Measures a post's weighted length the way X does (twitter-text v3 defaults, NFC-normalised inside). */
export function weightedLength(text: string): number {
  return parseTweet(text).weightedLength;
}

/**
 * Throws `invalid_input` (field `text`) for empty text and `text_too_long` for text over X's limit.
 * @example checkText('reply', 'Thanks, we are on it!') // passes
 */
export function checkText(kind: 'reply' | 'post' | 'dm', text: string): void {
  if (text.trim().length === 0) throw invalidInput('text', 'must not be empty or only whitespace');
  if (kind === 'dm') {
    const length = [...text.normalize('NFC')].length;
    if (length > MAX_DM_LENGTH) {
      throw new ChannelError(
        'invalid_input',
        `text: ${length} characters, a DM allows at most ${MAX_DM_LENGTH}`,
        {
          code: 'text_too_long',
          field: 'text',
        },
      );
    }
    return;
  }
  const length = weightedLength(text);
  if (length > MAX_POST_WEIGHTED_LENGTH) {
    throw new ChannelError(
      'invalid_input',
      `text: weighted length ${length}, a ${kind} allows at most ${MAX_POST_WEIGHTED_LENGTH} (URLs count 23, CJK and emoji 2)`,
      { code: 'text_too_long', field: 'text' },
    );
  }
}
