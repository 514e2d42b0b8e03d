/**
 * Scenario 7, cold start and size: each Lambda entry of lib/handlers.ts bundled with esbuild exactly
 * as the CDK construct does (`bundleOptions` from lib/handlers.ts: ESM, node22, minified, AWS SDK v3
 * external; the source map is written beside the bundle and not counted), then module
 * init time = importing the bundle in a fresh Node process with the function's required variables set
 * to placeholders (config is parsed at import, as at a cold start), median of 5 (3 when quick).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { HANDLERS, bundleOptions, type HandlerName } from '../../lib/handlers';
import type { ScenarioContext } from '../types';

export interface BundleFigure {
  bytes: number | null;
  initMs: number | null;
  /** Why a figure is null. */
  missing?: string;
}

export type BundlesResult = Record<string, BundleFigure>;

const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Placeholder values per variable: enough for each config schema to parse, nothing reachable. */
function placeholderEnv(names: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {
    AWS_REGION: 'us-east-1',
    LOG_LEVEL: 'ERROR',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  for (const name of names) {
    if (name === 'CONSOLE_ORIGIN') env[name] = 'https://console.example.invalid';
    else if (name.endsWith('_URL') || name.endsWith('_URI'))
      env[name] =
        name.includes('QUEUE') || name.endsWith('DLQ_URL')
          ? `https://sqs.us-east-1.amazonaws.com/000000000000/${name.toLowerCase()}`
          : 'https://example.invalid/callback';
    else if (name === 'AUTH_MODE') env[name] = 'cognito';
    else if (name === 'COGNITO_DOMAIN') env[name] = 'https://auth.example.invalid';
    else if (name === 'COGNITO_USER_POOL_ID') env[name] = 'us-east-1_abcdefghi';
    else env[name] = `bench-${name.toLowerCase().replace(/_/g, '-')}`;
  }
  return env;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

/** Milliseconds to import `file` in a fresh Node process (measured inside it, process start excluded). */
function initTimeMs(file: string, env: Record<string, string>): number {
  const script = `const t=performance.now();await import(${JSON.stringify(file)});process.stdout.write(String(performance.now()-t));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 30_000,
  });
  return Number(out.trim().split('\n').pop());
}

export async function benchBundles(ctx: ScenarioContext): Promise<BundlesResult> {
  const outdir = mkdtempSync(path.join(tmpdir(), 'x-channel-bench-'));
  // the bundles import the AWS SDK the Lambda runtime provides: here, the project's own copy
  symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(outdir, 'node_modules'), 'dir');
  const repeats = ctx.quick ? 3 : 5;
  const result: BundlesResult = {};
  try {
    for (const name of Object.keys(HANDLERS) as HandlerName[]) {
      const spec = HANDLERS[name];
      ctx.progress(`bundles: ${name}`);
      const outfile = path.join(outdir, name, 'index.mjs');
      try {
        // exactly the construct's options (lib/bundling.ts): AWS SDK v3 external (the Node 22 runtime
        // provides it), zod and twitter-text trimmed, ESM with the createRequire banner
        await build({ ...bundleOptions(name, { outdir: path.join(outdir, name) }), logLevel: 'silent' });
      } catch (e) {
        result[name] = {
          bytes: null,
          initMs: null,
          missing: `esbuild failed: ${(e as Error).message.split('\n')[0]}`,
        };
        continue;
      }
      const bytes = statSync(outfile).size;
      try {
        const env = placeholderEnv(spec.requiredEnv);
        const times = Array.from({ length: repeats }, () => initTimeMs(outfile, env));
        result[name] = { bytes, initMs: Math.round(median(times) * 10) / 10 };
      } catch (e) {
        const stderr = String((e as { stderr?: string }).stderr ?? (e as Error).message);
        const lines = stderr.split('\n');
        // the thrown error's own line (a minified source line may come first and is useless here)
        const line =
          lines.find((l) => l.length < 400 && /^\s*(\w*Error\b|Error \[)/.test(l)) ??
          lines.find((l) => l.length < 400 && /Error\b/.test(l)) ??
          'see stderr of the import';
        result[name] = {
          bytes,
          initMs: null,
          missing: `init failed: ${line
            .trim()
            .slice(0, 200)
            .replace(/\/tmp\/[^/]+\//g, '<bundle>/')}`,
        };
      }
    }
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
  return result;
}
