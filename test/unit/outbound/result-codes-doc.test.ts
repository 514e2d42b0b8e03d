import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RESULT_ERROR_CODES } from '../../../contracts';
import { RETRYABLE } from '../../../core/outbound/results';

describe('docs/result-codes.md', () => {
  const doc = readFileSync(join(__dirname, '../../../docs/result-codes.md'), 'utf8');
  it.each(RESULT_ERROR_CODES.map((c) => [c]))(
    'documents %s with the retryable flag the code uses',
    (code) => {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`${code}\` |`));
      expect(row).toBeDefined();
      const cells = row!.split('|').map((c) => c.trim());
      expect(cells[3]).toBe(RETRYABLE[code] ? 'yes' : 'no');
    },
  );
});
