/**
 * Builds the admin console: `src/main.ts` (with `i18n.ts`) and `styles.css` bundled by esbuild into
 * content-hashed files, and `index.html` pointing at them. Nothing is fetched from a CDN: the page
 * needs only its own origin.
 *
 * - `buildConsole()` builds in memory (used by `serve.ts` when `dist/` is missing, and by tests);
 * - `buildConsole({ outDir })` also writes `console/dist/` (what a deployment ships next to the API
 *   function; `npx tsx console/build.ts` does this).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';
import { type ConsoleAsset, type ConsoleBundle, contentTypeOf } from './bundle-files';

export type { ConsoleAsset, ConsoleBundle } from './bundle-files';

/** Folder of this file's sources (`console/`). */
export const CONSOLE_DIR = __dirname;
/** Where `buildConsole({ outDir })` writes by default and where `serve.ts` looks first. */
export const DEFAULT_DIST_DIR = path.join(CONSOLE_DIR, 'dist');

const hashOf = (b: Buffer | string) => createHash('sha256').update(b).digest('hex').slice(0, 12);

/**
 * Bundles the console. The file names carry a hash of their content, so `/assets/*` can be cached
 * for a year while `index.html` (never cached) always points at the current build.
 */
export async function buildConsole(options: { outDir?: string } = {}): Promise<ConsoleBundle> {
  const result = await build({
    entryPoints: [path.join(CONSOLE_DIR, 'src', 'main.ts')],
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['es2020'],
    platform: 'browser',
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
    outfile: 'app.js',
  });
  const js = Buffer.from(result.outputFiles[0].contents);
  const css = await readFile(path.join(CONSOLE_DIR, 'styles.css'));
  const jsName = `app-${hashOf(js)}.js`;
  const cssName = `styles-${hashOf(css)}.css`;
  const template = await readFile(path.join(CONSOLE_DIR, 'index.html'), 'utf8');
  if (!template.includes('%APP_JS%') || !template.includes('%STYLES_CSS%')) {
    throw new Error('console/index.html must reference %APP_JS% and %STYLES_CSS%');
  }
  const indexHtml = Buffer.from(
    template.replaceAll('%APP_JS%', `assets/${jsName}`).replaceAll('%STYLES_CSS%', `assets/${cssName}`),
  );
  const assets = new Map<string, ConsoleAsset>([
    [jsName, { name: jsName, contentType: contentTypeOf(jsName), body: js }],
    [cssName, { name: cssName, contentType: contentTypeOf(cssName), body: css }],
  ]);
  if (options.outDir) await writeBundle(options.outDir, { indexHtml, assets });
  return { indexHtml, assets };
}

async function writeBundle(outDir: string, bundle: ConsoleBundle): Promise<void> {
  // A clean folder: stale hashed files from older builds would otherwise be served forever.
  await rm(outDir, { recursive: true, force: true });
  await mkdir(path.join(outDir, 'assets'), { recursive: true });
  await writeFile(path.join(outDir, 'index.html'), bundle.indexHtml);
  for (const asset of bundle.assets.values()) {
    await writeFile(path.join(outDir, 'assets', asset.name), asset.body);
  }
}

if (require.main === module) {
  const outDir = process.argv[2] ? path.resolve(process.argv[2]) : DEFAULT_DIST_DIR;
  buildConsole({ outDir }).then(
    (b) => {
      const sizes = [...b.assets.values()].map((a) => `${a.name} ${a.body.length} B`).join(', ');
      console.log(`console built into ${path.relative(process.cwd(), outDir) || '.'}: ${sizes}`);
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
