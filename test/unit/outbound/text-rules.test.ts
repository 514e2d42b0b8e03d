import { parseTweet } from 'twitter-text';
import { checkText, weightedLength } from '../../../core/outbound/text-rules';
import { comparableText, sameText } from '../../../core/outbound/fingerprint';

describe('text rules (X-API.md §6)', () => {
  it.each([
    ['Latin counts 1', 'hello', 5],
    ['CJK counts 2', '漢字', 4],
    ['a URL counts 23', 'see https://example.com/a/very/long/path/that/is/long', 4 + 23],
    ['an emoji counts 2', '👍', 2],
  ])('%s', (_n, text, expected) => {
    expect(weightedLength(text)).toBe(expected);
  });

  it('uses the v3 configuration (280 max weighted length)', () => {
    expect(parseTweet('a'.repeat(280)).valid).toBe(true);
    expect(parseTweet('a'.repeat(281)).valid).toBe(false);
  });

  it('names the field and the limit in its error', () => {
    expect(() => checkText('reply', '漢'.repeat(141))).toThrow(
      /^text: weighted length 282, a reply allows at most 280/,
    );
    expect(() => checkText('dm', '')).toThrow(/^text: must not be empty/);
  });
});

describe('earlier-delivery text comparison', () => {
  it.each([
    ['X escapes HTML entities', 'Tom & Jerry <3', 'Tom &amp; Jerry &lt;3'],
    ['X rewrites URLs to t.co', 'see https://example.com/page', 'see https://t.co/abc123'],
    ['X adds leading mentions to replies', 'thanks!', '@alice @bob thanks!'],
  ])('%s', (_n, sent, seen) => {
    expect(sameText(sent, seen)).toBe(true);
  });
  it('different text is different', () => {
    expect(sameText('thanks', 'thanks again')).toBe(false);
    expect(comparableText('  a   b ')).toBe('a b');
  });
});
