/**
 * One real bundle of every function, the way `cdk synth` builds them (lib/bundle-cli.ts with the options
 * of lib/bundling.ts, local esbuild, no Docker): each is ESM with the createRequire banner, under the
 * size budget, imports nothing but Node built-ins and the runtime's AWS SDK, and starts (its module
 * initialises with its variables set). The API's asset carries the admin console and serves it.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { builtinModules } from 'node:module';
import { App } from 'aws-cdk-lib';
import { build } from 'esbuild';
import { BUNDLE_BUDGET_BYTES, CONSOLE_DIST_SUBDIR, esbuildOptions } from '../../lib/bundling';
import { HANDLERS, type HandlerName } from '../../lib/handlers';
import { XChannelStack } from '../../lib/x-channel-stack';
import { weightedLength } from '../../core/outbound/text-rules';
import { projectRoot } from './build';

/** Placeholder values: enough for each config schema to parse, nothing reachable. */
function placeholderEnv(names: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'placeholder-not-a-secret',
    LOG_LEVEL: 'ERROR',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  for (const name of names) {
    if (name.endsWith('QUEUE_URL') || name.endsWith('DLQ_URL'))
      env[name] = `https://sqs.eu-west-1.amazonaws.com/000000000000/${name.toLowerCase()}`;
    else if (name === 'CONSOLE_ORIGIN') env[name] = 'https://api.example.invalid';
    else if (name.endsWith('_URI')) env[name] = 'https://api.example.invalid/oauth/callback';
    else if (name === 'AUTH_MODE') env[name] = 'cognito';
    else if (name === 'COGNITO_DOMAIN') env[name] = 'https://admins.auth.eu-west-1.amazoncognito.com';
    else env[name] = `placeholder-${name.toLowerCase().replace(/_/g, '-')}`;
  }
  return env;
}

/** Runs an ES module script in a fresh Node (as Lambda would load the bundle); returns its stdout. */
function runModule(script: string, env: Record<string, string>): string {
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 30_000,
  });
}

describe('bundling', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'x-channel-cdk-'));
  // The SDK is external (the Lambda runtime has it): let the bundles find the project's copy.
  fs.symlinkSync(path.join(projectRoot, 'node_modules'), path.join(outdir, 'node_modules'), 'dir');
  const assetDirs = {} as Record<HandlerName, string>;
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  beforeAll(() => {
    // Asset metadata names each function's bundle directory (the CLI turns it on; a bare App does not).
    const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
    const stack = new XChannelStack(app, 'XChannelBundle', { env: { region: 'eu-west-1' } });
    const assembly = app.synth();
    const template = assembly.getStackByName(stack.stackName).template as {
      Resources: Record<string, { Metadata?: Record<string, string> }>;
    };
    for (const name of Object.keys(HANDLERS) as HandlerName[]) {
      const id = stack.getLogicalId(stack.channel.functions[name].node.defaultChild as never);
      assetDirs[name] = path.join(outdir, template.Resources[id].Metadata!['aws:asset:path']);
    }
  }, 120_000);

  it('every entry in lib/handlers.ts exists', () => {
    const missing = Object.values(HANDLERS)
      .filter((spec) => !fs.existsSync(path.join(projectRoot, spec.entry)))
      .map((spec) => `${spec.name}: ${spec.entry}`);
    expect(missing).toEqual([]);
  });

  it.each(Object.keys(HANDLERS) as HandlerName[])(
    '%s: ESM index.mjs with the createRequire banner and a source map, under the size budget',
    (name) => {
      const file = path.join(assetDirs[name], 'index.mjs');
      const code = fs.readFileSync(file, 'utf8');
      expect(code.slice(0, 200)).toContain('createRequire');
      expect(fs.existsSync(`${file}.map`)).toBe(true);
      const bytes = fs.statSync(file).size;
      // The name and size in the failure message say which function grew and by how much.
      expect({ name, bytes, under: bytes < BUNDLE_BUDGET_BYTES }).toEqual({ name, bytes, under: true });
    },
  );

  it.each(Object.keys(HANDLERS) as HandlerName[])(
    '%s: imports only Node built-ins and the AWS SDK v3 the runtime provides',
    async (name) => {
      const file = path.join(assetDirs[name], 'index.mjs');
      // esbuild parses the bundle and lists what it imports, leaving every package external.
      const { metafile } = await build({
        entryPoints: [file],
        bundle: true,
        write: false,
        metafile: true,
        platform: 'node',
        format: 'esm',
        packages: 'external',
        logLevel: 'silent',
      });
      const specifiers = new Set(
        Object.values(metafile.inputs)
          .flatMap((input) => input.imports)
          .filter((i) => i.external)
          .map((i) => i.path),
      );
      const builtins = new Set(builtinModules);
      const others = [...specifiers].filter(
        (s) =>
          !s.startsWith('node:') &&
          !builtins.has(s.split('/')[0]) &&
          !/^@aws-sdk\/[a-z0-9-]+$/.test(s) &&
          !/^@smithy\/[a-z0-9-]+$/.test(s),
      );
      expect(others).toEqual([]);
      expect([...specifiers].some((s) => s.startsWith('@aws-sdk/'))).toBe(true);
    },
  );

  it.each(Object.keys(HANDLERS) as HandlerName[])(
    '%s: the bundle starts (module initialised, config parsed) and exports its handler',
    (name) => {
      const spec = HANDLERS[name];
      const file = path.join(assetDirs[name], 'index.mjs');
      const out = runModule(
        `const m = await import(${JSON.stringify(file)}); process.stdout.write(typeof m[${JSON.stringify(spec.exportName)}]);`,
        placeholderEnv(spec.requiredEnv),
      );
      expect(out).toBe('function');
    },
  );

  it('api: the asset carries the built admin console (index.html and every asset it references)', () => {
    const dist = path.join(assetDirs.api, CONSOLE_DIST_SUBDIR);
    const html = fs.readFileSync(path.join(dist, 'index.html'), 'utf8');
    const referenced = [...html.matchAll(/(?:src|href)="assets\/([^"]+)"/g)].map((m) => m[1]);
    expect(referenced.map((f) => path.extname(f)).sort()).toEqual(['.css', '.js']);
    for (const asset of referenced) expect(fs.existsSync(path.join(dist, 'assets', asset))).toBe(true);
  });

  it('api: the bundled handler serves the console page and its script from CONSOLE_DIST_DIR', () => {
    const file = path.join(assetDirs.api, 'index.mjs');
    const dist = path.join(assetDirs.api, CONSOLE_DIST_SUBDIR);
    const html = fs.readFileSync(path.join(dist, 'index.html'), 'utf8');
    const script = /src="assets\/([^"]+\.js)"/.exec(html)![1];
    const event = (rawPath: string, proxy?: string) => ({
      version: '2.0',
      routeKey: proxy ? 'GET /assets/{proxy+}' : 'GET /',
      rawPath,
      rawQueryString: '',
      headers: { host: 'api.example.invalid', 'x-forwarded-proto': 'https' },
      pathParameters: proxy ? { proxy } : undefined,
      requestContext: {
        http: {
          method: 'GET',
          path: rawPath,
          protocol: 'HTTP/1.1',
          sourceIp: '192.0.2.1',
          userAgent: 'jest',
        },
        requestId: 'bundle-test',
        routeKey: proxy ? 'GET /assets/{proxy+}' : 'GET /',
        stage: '$default',
        domainName: 'api.example.invalid',
        timeEpoch: 0,
      },
      isBase64Encoded: false,
    });
    const out = runModule(
      `const { handler } = await import(${JSON.stringify(file)});
       const ctx = { awsRequestId: 'bundle-test', functionName: 'api', getRemainingTimeInMillis: () => 10000 };
       const page = await handler(${JSON.stringify(event('/'))}, ctx);
       const js = await handler(${JSON.stringify(event(`/assets/${script}`, script))}, ctx);
       process.stdout.write(JSON.stringify({ page: [page.statusCode, page.body.includes(${JSON.stringify(script)})], js: [js.statusCode, js.headers['content-type']] }));`,
      { ...placeholderEnv(HANDLERS.api.requiredEnv), CONSOLE_DIST_DIR: dist },
    );
    expect(JSON.parse(out)).toEqual({
      page: [200, true],
      js: [200, 'text/javascript; charset=utf-8'],
    });
  });

  it('the twitter-text trims keep parseTweet exact (weighted lengths as the unbundled package)', async () => {
    const dir = fs.mkdtempSync(path.join(outdir, 'text-rules-'));
    await build({ ...esbuildOptions('core/outbound/text-rules.ts', { outdir: dir }), logLevel: 'silent' });
    const samples = [
      'Thanks, we are on it!',
      'see https://example.com/a/b?c=d and example.org',
      '日本語のテキスト、絵文字👩‍👩‍👧‍👦と🇯🇵',
      `${'a'.repeat(270)} 🎉🎉🎉`,
      'café\u0301 #hashtag @user $CASH',
    ];
    const out = runModule(
      `const m = await import(${JSON.stringify(path.join(dir, 'index.mjs'))});
       process.stdout.write(JSON.stringify(${JSON.stringify(samples)}.map((t) => m.weightedLength(t))));`,
      {},
    );
    expect(JSON.parse(out)).toEqual(samples.map((t) => weightedLength(t)));
  });
});
