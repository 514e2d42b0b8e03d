/**
 * What the console's Playwright suites share: Debian's Chromium (`.ci/run` installs it) and an axe-core
 * check of the page for serious and critical WCAG 2.1 A/AA and best-practice violations.
 * @example
 * requireChromium();
 * const browser = await chromium.launch({ executablePath: CHROMIUM });
 * expect(await seriousA11yViolations(page)).toEqual([]);
 */
import { existsSync } from 'node:fs';
import axe from 'axe-core';
import type { Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Fails with what to install when Debian's Chromium is missing. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM))
    throw new Error(`no browser at ${CHROMIUM}: install chromium (apt-get install chromium)`);
}

/** Runs axe-core in the page (evaluated over CDP, so the page's CSP does not block it). */
export async function seriousA11yViolations(p: Page): Promise<string[]> {
  await p.evaluate(axe.source);
  const results = await p.evaluate(() =>
    (window as unknown as { axe: typeof axe }).axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
    }),
  );
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}
