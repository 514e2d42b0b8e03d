/**
 * Serves the admin console from the admin API function: `GET /` (the page) and
 * `GET /assets/{proxy+}` (bundled script and styles, plus `config.json`, the sign-in settings).
 *
 * Where the files come from, in order:
 * 1. `CONSOLE_DIST_DIR`, or `console/dist/` next to this file, when it holds an `index.html`
 *    (a deployment ships the output of `npx tsx console/build.ts` there);
 * 2. otherwise an in-memory esbuild build on the first request (local runs and tests), cached.
 *
 * Every answer carries a strict Content-Security-Policy: only this origin runs script, styles and
 * fetches; images may also come from X's avatar host. The page is never framed.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import * as z from 'zod/mini';
import { parseEnv } from '../lambdas/shared/config';
import { type ConsoleAsset, type ConsoleBundle, contentTypeOf } from './bundle-files';

/** Environment the console reads (all optional locally). */
export const consoleEnvSchema = z
  .object({
    /** `local`: the bearer token from `adminLoginUrl`; `cognito`: the Cognito hosted UI (code + PKCE). */
    AUTH_MODE: z.optional(z.enum(['local', 'cognito'])),
    /** The Cognito hosted-UI domain, e.g. `admins.auth.eu-west-1.amazoncognito.com` (or an https URL). */
    COGNITO_DOMAIN: z.optional(z.string().check(z.minLength(1))),
    COGNITO_CLIENT_ID: z.optional(z.string().check(z.minLength(1))),
    /** Origin of the X API; locally the simulated X, whose avatar URLs the CSP must then allow. */
    X_API_BASE_URL: z.optional(z.url()),
    CONSOLE_DIST_DIR: z.optional(z.string().check(z.minLength(1))),
  })
  .check(
    z.superRefine((env, ctx) => {
      const mode = env.AUTH_MODE ?? (env.COGNITO_DOMAIN ? 'cognito' : 'local');
      if (mode !== 'cognito') return;
      for (const key of ['COGNITO_DOMAIN', 'COGNITO_CLIENT_ID'] as const) {
        if (!env[key])
          ctx.addIssue({ code: 'custom', path: [key], message: 'is required when AUTH_MODE=cognito' });
      }
    }),
  );

/** What the browser gets from `GET /assets/config.json`. */
export interface ConsoleConfig {
  authMode: 'local' | 'cognito';
  cognito?: { domain: string; clientId: string };
}

/** Settings of one console server. */
export interface ConsoleServerOptions {
  env: Record<string, string | undefined>;
  /** Supplies the built files; defaults to `dist/` or an in-memory build. */
  loadBundle?: () => Promise<ConsoleBundle>;
}

type Handler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyResultV2>;

/** A year: asset names carry a content hash, so a changed file is a new URL. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

function originOf(value: string): string {
  return new URL(/^https?:\/\//i.test(value) ? value : `https://${value}`).origin;
}

/** Builds the CSP; exported for tests and for the CDK engineer, who may mirror it in a response-headers policy. */
export function contentSecurityPolicy(config: ConsoleConfig, xApiBaseUrl?: string): string {
  const img = ["'self'", 'data:', 'https://pbs.twimg.com'];
  if (xApiBaseUrl) {
    const x = originOf(xApiBaseUrl);
    if (x !== 'https://api.x.com' && !img.includes(x)) img.push(x);
  }
  const connect = ["'self'"];
  if (config.cognito) connect.push(originOf(config.cognito.domain));
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src ${img.join(' ')}`,
    `connect-src ${connect.join(' ')}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join('; ');
}

/** Reads a built `dist/` folder. */
export async function readBundleDir(dir: string): Promise<ConsoleBundle> {
  const indexHtml = await readFile(path.join(dir, 'index.html'));
  const assets = new Map<string, ConsoleAsset>();
  for (const name of await readdir(path.join(dir, 'assets'))) {
    assets.set(name, {
      name,
      contentType: contentTypeOf(name),
      body: await readFile(path.join(dir, 'assets', name)),
    });
  }
  return { indexHtml, assets };
}

async function defaultLoadBundle(distDir: string | undefined): Promise<ConsoleBundle> {
  const dir = distDir ?? path.join(__dirname, 'dist');
  if (existsSync(path.join(dir, 'index.html'))) return readBundleDir(dir);
  // Kept out of a deployed bundle's static graph: esbuild is a dev dependency. A deployment ships dist/.
  const builder = './build';
  const { buildConsole } = (await import(builder)) as typeof import('./build');
  return buildConsole();
}

/**
 * Creates the console handler. Configuration is checked on creation (a bad variable is named);
 * the files are loaded on the first request and kept.
 */
export function createConsoleServer(options: ConsoleServerOptions): Handler {
  const env = parseEnv(consoleEnvSchema, options.env);
  const authMode = env.AUTH_MODE ?? (env.COGNITO_DOMAIN ? 'cognito' : 'local');
  const config: ConsoleConfig =
    authMode === 'cognito'
      ? { authMode, cognito: { domain: originOf(env.COGNITO_DOMAIN!), clientId: env.COGNITO_CLIENT_ID! } }
      : { authMode };
  const csp = contentSecurityPolicy(config, env.X_API_BASE_URL);
  const baseHeaders = {
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
  };
  const load = options.loadBundle ?? (() => defaultLoadBundle(env.CONSOLE_DIST_DIR));
  let bundle: Promise<ConsoleBundle> | undefined;
  const getBundle = () => {
    bundle ??= load().catch((err: unknown) => {
      bundle = undefined; // a failed build is retried on the next request
      throw err;
    });
    return bundle;
  };

  const reply = (
    statusCode: number,
    contentType: string,
    body: Buffer | string,
    cache: string,
    extra: Record<string, string> = {},
  ): APIGatewayProxyResultV2 => {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    const text = /^(text\/|application\/json)/.test(contentType);
    return {
      statusCode,
      headers: { ...baseHeaders, 'content-type': contentType, 'cache-control': cache, ...extra },
      body: text ? bytes.toString('utf8') : bytes.toString('base64'),
      isBase64Encoded: !text,
    };
  };
  const notFound = () => reply(404, 'text/plain; charset=utf-8', 'Not found', 'no-store');

  return async (event) => {
    const method = event.requestContext?.http?.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') {
      return reply(405, 'text/plain; charset=utf-8', 'Method not allowed', 'no-store', {
        allow: 'GET, HEAD',
      });
    }
    const rawPath = event.rawPath || '/';
    const assetMatch = /\/assets\/(.+)$/.exec(rawPath);
    if (!assetMatch) {
      if (rawPath !== '/' && !rawPath.endsWith('/index.html') && !rawPath.endsWith('/')) return notFound();
      const b = await getBundle();
      return reply(200, 'text/html; charset=utf-8', b.indexHtml, 'no-cache');
    }
    const name = event.pathParameters?.proxy ?? assetMatch[1];
    if (name === 'config.json') {
      return reply(200, 'application/json; charset=utf-8', JSON.stringify(config), 'no-store');
    }
    // Names are looked up in a map, never joined onto a file path, so `..` cannot escape.
    const asset = (await getBundle()).assets.get(name);
    return asset ? reply(200, asset.contentType, asset.body, IMMUTABLE) : notFound();
  };
}

let defaultServer: Handler | undefined;

/**
 * The console route handler for the admin API (`GET /`, `GET /assets/{proxy+}`), configured from
 * `process.env` on first use.
 *
 * @example
 * router.get('/assets/{proxy+}', (event) => serveConsole(event));
 */
export function serveConsole(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyResultV2> {
  defaultServer ??= createConsoleServer({ env: process.env });
  return defaultServer(event);
}
