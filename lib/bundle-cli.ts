/**
 * Bundles one function the way the CDK construct deploys it:
 * `tsx lib/bundle-cli.ts <function> <outdir> [--bundle-aws-sdk]`, from the project root.
 *
 * The construct runs this in a child process because CDK's local bundling hook is synchronous while
 * esbuild plugins (lib/bundling.ts) need esbuild's asynchronous API. For `api` it also builds the admin
 * console into `<outdir>/console/dist`, which the function serves from `CONSOLE_DIST_DIR`.
 */
import * as path from 'node:path';
import { build } from 'esbuild';
import { buildConsole } from '../console/build';
import { CONSOLE_DIST_SUBDIR } from './bundling';
import { HANDLERS, bundleOptions, type HandlerName } from './handlers';

async function main(argv: string[]): Promise<void> {
  const [name, outdir, ...flags] = argv;
  if (!name || !(name in HANDLERS) || !outdir) {
    throw new Error(
      `usage: bundle-cli <${Object.keys(HANDLERS).join('|')}> <outdir> [--bundle-aws-sdk]` +
        (name && !(name in HANDLERS) ? ` (unknown function "${name}")` : ''),
    );
  }
  const unknown = flags.filter((f) => f !== '--bundle-aws-sdk');
  if (unknown.length > 0) throw new Error(`unknown option(s): ${unknown.join(', ')}`);
  const dir = path.resolve(outdir);
  const result = await build(
    bundleOptions(name as HandlerName, {
      outdir: dir,
      // The construct runs this with the project root as working directory.
      projectRoot: process.cwd(),
      bundleAwsSdk: flags.includes('--bundle-aws-sdk'),
    }),
  );
  if (result.errors.length > 0) throw new Error(`esbuild failed for ${name}`);
  if (name === 'api') await buildConsole({ outDir: path.join(dir, CONSOLE_DIST_SUBDIR) });
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
