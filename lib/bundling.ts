/**
 * How x-channel's Lambda entries are bundled: one esbuild configuration, used by the CDK construct
 * (through `lib/bundle-cli.ts`), by `test/cdk/bundle.test.ts` and by the benchmark, so all three
 * measure and ship the same bytes. Free of aws-cdk-lib; esbuild is only referenced as a type.
 *
 * Measured with esbuild 0.28.2, minified `index.mjs` in KiB (1024 B; the source map is not counted):
 *
 * | function   | (a) SDK bundled | (b) SDK external | (b) + trims 2–6 = deployed | (a) + trims 2–6 |
 * | ---------- | --------------- | ---------------- | -------------------------- | --------------- |
 * | api        | 1236            | 637              | 255.5 (gzip 73)            | 852             |
 * | dispatcher | 1092            | 493              | 140.2 (gzip 42)            | 736             |
 * | poller     | 1253            | 654              | 275.9 (gzip 76)            | 873             |
 * | sender     | 1349            | 746              | 296.2 (gzip 88)            | 893             |
 *
 * Chosen: (b) + trims, the only variant under the budget. Since then the contracts and configs moved to
 * `zod/mini` (the classic API kept ~96 KB: every ZodType method refers to every schema kind), so the
 * budget is 300,000 bytes (KB = 1,000; sizes today in docs/deploy.md). What is left is the
 * twitter-api-v2 client classes (~92 KiB, methods cannot be shaken) and our own code. The next trims,
 * not taken because they change what a code path could reach at run time, would be stubbing
 * twitter-api-v2's v1, streaming and OAuth 1.0a modules (~30 KiB; x-channel uses v2 and OAuth 2.0 only).
 *
 * The SDK was only part of it: `import { z } from 'zod'` kept every zod export (all 60 locales, the
 * JSON-schema converters: ~445 KB) because esbuild does not shake a namespace that is re-exported
 * (`export { z }`); twitter-text's CommonJS index pulls its whole library and core-js polyfills for one
 * function. The trims, each keeping the code as written and the behaviour the tests saw:
 *
 * 1. `@aws-sdk/*` and `@smithy/*` are external: the Node.js 22 Lambda runtime ships AWS SDK v3.
 *    Risk: the runtime's SDK version is AWS's, not our pin, and changes without notice. Mitigation:
 *    the code uses only long-stable client APIs (DynamoDB document client Get/Put/Update/Delete/Query,
 *    SQS SendMessage/ChangeMessageVisibility, Secrets Manager Get/Put/Create/Describe/Delete secret,
 *    plain client constructors with region, credentials and maxAttempts), and the construct's
 *    `bundleAwsSdk: true` ships the pinned SDK instead (≈ +600 KB per function) if a runtime update
 *    ever breaks it.
 * 2. Our own files' `import { z } from 'zod'` is read as `import * as z from '<zod>/v4/classic/external.js'`,
 *    the very module zod's index re-exports as `z`: same bindings, but now esbuild sees each `z.x`
 *    access and drops the rest. Files with any other form of zod import are left untouched.
 * 3. `twitter-api-v2` resolves to its ESM build (same TypeScript source as the CommonJS one), which
 *    esbuild can tree-shake. Every importer gets that one copy, so `instanceof ApiResponseError` holds.
 * 4. `twitter-text` resolves to a generated module re-exporting each function from its own CommonJS
 *    file, only when each such file's export is verified identical to the package's named export;
 *    otherwise the package is bundled whole. Its ESM build is not usable: it exports one default
 *    object and no `parseTweet` binding, hence also `mainFields: ['main', 'module']` (CommonJS first).
 * 5. core-js 2 `es6.*` / `es7.*` / `web.dom.iterable` modules (Babel polyfills twitter-text carries)
 *    are empty: they patch only engines missing ES2015+ built-ins, and Node.js 22 has all of them.
 * 6. No legal comments, no sources in the source map (the map is kept for stack traces).
 */
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BuildOptions, Plugin } from 'esbuild';

/** Budget of one function's minified `index.mjs`; `test/cdk/bundle.test.ts` enforces it. */
export const BUNDLE_BUDGET_BYTES = 300_000;

/** Packages the Node.js 22 Lambda runtime provides (AWS SDK v3 and its Smithy core). */
export const RUNTIME_PROVIDED_PACKAGES = ['@aws-sdk/*', '@smithy/*'] as const;

/** ESM output, but some dependencies are CommonJS and call require(): give them one. */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __xcCreateRequire } from 'node:module'; const require = __xcCreateRequire(import.meta.url);";

/** Options of {@link esbuildOptions}. */
export interface EntryBundleOptions {
  /** Folder the bundle is written to: `index.mjs` and `index.mjs.map`. */
  readonly outdir: string;
  /**
   * Root of the x-channel source tree (holding `node_modules/`).
   * @default - the directory above this file's `lib/`
   */
  readonly projectRoot?: string;
  /**
   * Bundle the pinned AWS SDK v3 instead of using the runtime's copy.
   * @default false
   */
  readonly bundleAwsSdk?: boolean;
}

/**
 * The esbuild options of one entry (a path relative to the project root), exactly as deployed.
 * Pass the result to esbuild's `build()`; the result's `metafile` tells what is inside.
 *
 * Note for running the bundle outside Lambda: with the SDK external, Node must find `@aws-sdk/*` in a
 * `node_modules` above `outdir` (so put `outdir` inside the project, or set `bundleAwsSdk`).
 */
export function esbuildOptions(entry: string, options: EntryBundleOptions): BuildOptions {
  const projectRoot = options.projectRoot ?? path.resolve(__dirname, '..');
  return {
    absWorkingDir: projectRoot,
    entryPoints: [path.join(projectRoot, entry)],
    outfile: path.join(options.outdir, 'index.mjs'),
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    minify: true,
    treeShaking: true,
    // CommonJS first: twitter-text's ESM build lacks the named exports of its CommonJS build.
    mainFields: ['main', 'module'],
    external: options.bundleAwsSdk ? [] : [...RUNTIME_PROVIDED_PACKAGES],
    alias: { 'twitter-api-v2': 'twitter-api-v2/dist/esm/index.js' },
    plugins: [zodNamespacePlugin(projectRoot), twitterTextPlugin(projectRoot), nodeNativePolyfillsPlugin()],
    banner: { js: ESM_REQUIRE_BANNER },
    sourcemap: true,
    sourcesContent: false,
    legalComments: 'none',
    charset: 'utf8',
    metafile: true,
    logLevel: 'warning',
  };
}

const ZOD_IMPORT = /^import \{ z \} from 'zod';$/m;

const TT_PREFIX = 'x-channel-twitter-text-fn:';

const isOwnSource = (file: string) => !file.split(path.sep).includes('node_modules');

/** Trim 2: `import { z } from 'zod'` in our own files → a namespace import esbuild can shake. */
function zodNamespacePlugin(projectRoot: string): Plugin {
  return {
    name: 'x-channel:zod-namespace',
    setup(build) {
      // zod's own index is `import * as z from "./v4/classic/external.js"; export { z }`: check that
      // it still is (with esbuild's own resolution of 'zod'), or leave every import alone.
      let target: Promise<string | null> | undefined;
      const findTarget = async (): Promise<string | null> => {
        const index = await build.resolve('zod', { kind: 'import-statement', resolveDir: projectRoot });
        if (index.errors.length > 0) return null;
        const file = path.join(path.dirname(index.path), 'v4', 'classic', 'external.js');
        const source = await fs.promises.readFile(index.path, 'utf8');
        return source.includes('import * as z from "./v4/classic/external.js"') && fs.existsSync(file)
          ? file
          : null;
      };
      build.onLoad({ filter: /\.ts$/ }, async (args) => {
        if (!isOwnSource(args.path)) return undefined;
        const source = await fs.promises.readFile(args.path, 'utf8');
        if (!ZOD_IMPORT.test(source)) return undefined;
        target ??= findTarget();
        const file = await target;
        if (file === null) return undefined;
        return {
          contents: source.replace(ZOD_IMPORT, `import * as z from ${JSON.stringify(file)};`),
          loader: 'ts',
        };
      });
    },
  };
}

/** Trim 4: `twitter-text` → one re-export per function, each from its own CommonJS module. */
function twitterTextPlugin(projectRoot: string): Plugin {
  return {
    name: 'x-channel:twitter-text-per-function',
    setup(build) {
      const req = createRequire(path.join(projectRoot, 'package.json'));
      let facade: string | null | undefined;
      const makeFacade = (): string | null => {
        const pkg = req('twitter-text') as Record<string, unknown>;
        const dist = path.dirname(req.resolve('twitter-text'));
        const lines: string[] = [];
        for (const name of Object.keys(pkg)) {
          const file = [`${name}.js`, path.join('regexp', 'index.js')]
            .map((f) => path.join(dist, f))
            .find((f) => {
              if (!fs.existsSync(f)) return false;
              // What esbuild's default import of a CommonJS module yields (`__toESM`).
              const mod = req(f) as { __esModule?: boolean; default?: unknown };
              return (mod.__esModule ? mod.default : mod) === pkg[name];
            });
          if (!file) return null; // not provably the same function: bundle the package whole
          lines.push(`export { default as ${name} } from ${JSON.stringify(`${TT_PREFIX}${file}`)};`);
        }
        return lines.join('\n');
      };
      build.onResolve({ filter: /^twitter-text$/ }, (args) => {
        if (!isOwnSource(args.importer)) return undefined;
        facade ??= makeFacade();
        return facade === null ? undefined : { path: 'twitter-text', namespace: 'x-channel-twitter-text' };
      });
      // A CommonJS module counts as having side effects, so an unused re-export would still pull it
      // in; these only define functions (their core-js imports are emptied below), so say so.
      build.onResolve({ filter: new RegExp(`^${TT_PREFIX}`) }, (args) => ({
        path: args.path.slice(TT_PREFIX.length),
        sideEffects: false,
      }));
      build.onLoad({ filter: /.*/, namespace: 'x-channel-twitter-text' }, () => ({
        contents: facade!,
        resolveDir: projectRoot,
        loader: 'js',
      }));
    },
  };
}

/** Trim 5: core-js 2 polyfills of ES2015+ built-ins, all native in Node.js 22. */
function nodeNativePolyfillsPlugin(): Plugin {
  return {
    name: 'x-channel:no-es2015-polyfills',
    setup(build) {
      build.onResolve({ filter: /^core-js\/modules\/(es6\.|es7\.|web\.dom\.iterable$)/ }, (args) => ({
        path: args.path,
        namespace: 'x-channel-empty',
      }));
      build.onLoad({ filter: /.*/, namespace: 'x-channel-empty' }, () => ({ contents: '', loader: 'js' }));
    },
  };
}

/** Where the API function's asset holds the built admin console (relative to the asset root). */
export const CONSOLE_DIST_SUBDIR = 'console/dist';

/**
 * `CONSOLE_DIST_DIR` of the deployed API function: Lambda unpacks the asset into `/var/task`
 * (`LAMBDA_TASK_ROOT`). `console/serve.ts` needs it set: its fallback, `dist/` next to the module,
 * is computed from `__dirname`, which an ESM bundle does not have.
 */
export const LAMBDA_CONSOLE_DIST_DIR = `/var/task/${CONSOLE_DIST_SUBDIR}`;
