/**
 * `npm run docs:screenshots`: refreshes docs/console-*.png (README and docs/console.md show them) by
 * running the console's end-to-end test (test/e2e/console.test.ts: the whole local stack and headless
 * Chromium) with `XC_SCREENSHOT_DIR` pointing at docs/. This is the only thing that writes them: the
 * test alone keeps its screenshots in a temporary directory, as tests never write tracked files.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '..');
const docs = path.join(root, 'docs');
const jest = require.resolve('jest/bin/jest', { paths: [root] });
const run = spawnSync(process.execPath, [jest, '--runInBand', 'test/e2e/console.test.ts'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, XC_SCREENSHOT_DIR: docs },
});
if (run.error) throw run.error;
if (run.status !== 0) {
  console.error(
    `docs:screenshots: the console test failed (exit ${run.status ?? run.signal}); docs/ may be partly updated`,
  );
  process.exit(run.status ?? 1);
}
console.log(
  `screenshots written to ${path.relative(process.cwd(), docs) || '.'}/console-{list,channel,error}.png`,
);
