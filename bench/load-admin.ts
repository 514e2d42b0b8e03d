/**
 * Admin API load, bounded in time: the stack runs in this process (`startLocal` with only the `api`
 * function), a handful of channels are created, and autocannon loads `GET /channels`,
 * `GET /channels/{id}` and `PATCH /channels/{id}` **from a second process**, so that the load
 * generator does not share the server's event loop (on a 2-core machine the figures are still a
 * lower bound: both processes compete for the same cores).
 *
 * PATCH bodies set a fresh `name` each time, so every request is a real conditional write. Without
 * `If-Match`, the API re-plans a lost race itself (up to 5 attempts, `core/channels.ts`
 * `patchChannel`); only when all of them lose does it answer 412 `version_mismatch`, the one 4xx this
 * load expects. Any 5xx or other non-2xx is an error.
 *
 * Run alone with `npx tsx bench/load-admin.ts [--quick]` (quick: 3 s per route; full: 10 s).
 *
 * Handler modules are imported once per process: call {@link benchAdminLoad} before any other
 * `startLocal` of the same process, or its API handler keeps the first stack's environment.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLocal, type LocalStack } from '../local/start-local';

/** One kind of request the autocannon child sends; `{n}` in `body` becomes a per-request counter. */
export interface LoadRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** Options of {@link runAutocannon}. */
export interface AutocannonRun {
  /** Origin of the server, e.g. `http://127.0.0.1:4000`. */
  url: string;
  /** Sent with every request (e.g. `authorization`). */
  headers?: Record<string, string>;
  /** Each request picks one of these at random, so connections do not move in lock-step. */
  variants: LoadRequest[];
  connections: number;
  durationSeconds: number;
}

/** What {@link runAutocannon} reports: autocannon's figures, reduced to what the callers assert on. */
export interface AutocannonSummary {
  requests: number;
  durationSeconds: number;
  requestsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Responses by status code. */
  statusCodes: Record<string, number>;
  non2xx: number;
  errors5xx: number;
  /** Socket errors and timeouts (no HTTP answer at all). */
  errors: number;
}

// Plain CommonJS run by `node -e` in the repository root (so `require('autocannon')` resolves there).
// It reads its options from XC_AUTOCANNON and prints one JSON line: no TypeScript loader to start.
const CHILD_SCRIPT = `
const autocannon = require('autocannon');
const o = JSON.parse(process.env.XC_AUTOCANNON);
let n = 0;
const requests = [{
  setupRequest(req) {
    const v = o.variants[Math.floor(Math.random() * o.variants.length)];
    n++;
    const body = v.body === undefined ? undefined : v.body.split('{n}').join(process.pid + '-' + n);
    return { ...req, method: v.method, path: v.path, headers: { ...o.headers, ...(v.headers || {}) }, body };
  },
}];
autocannon(
  { url: o.url, connections: o.connections, pipelining: 1, duration: o.durationSeconds, timeout: 10, requests },
  (err, r) => {
    if (err) { process.stderr.write(String(err && err.message) + '\\n'); process.exit(1); }
    const codes = {};
    for (const [code, s] of Object.entries(r.statusCodeStats || {})) codes[code] = s.count;
    process.stdout.write(JSON.stringify({
      total: r.requests.total, duration: r.duration, p50: r.latency.p50, p99: r.latency.p99,
      codes, non2xx: r.non2xx, x5xx: r['5xx'], errors: r.errors, timeouts: r.timeouts,
    }) + '\\n');
  },
);
`;

const REPO_ROOT = path.resolve(__dirname, '..');

/**
 * Runs autocannon in a child `node` process against `run.url` and returns its summary. Rejects when
 * the child fails (its stderr tail is in the message; no header values are echoed).
 *
 * @example
 * const s = await runAutocannon({ url, headers: { authorization: `Bearer ${token}` },
 *   variants: [{ method: 'GET', path: '/channels' }], connections: 8, durationSeconds: 2 });
 * s.errors5xx // 0
 */
export function runAutocannon(run: AutocannonRun): Promise<AutocannonSummary> {
  if (!run.variants.length) throw new Error('runAutocannon: variants must not be empty');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', CHILD_SCRIPT], {
      cwd: REPO_ROOT,
      env: { ...process.env, XC_AUTOCANNON: JSON.stringify(run) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-2000)));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`autocannon child exited ${code}: ${err.trim()}`));
      try {
        const r = JSON.parse(out.trim().split('\n').pop() ?? '') as {
          total: number;
          duration: number;
          p50: number;
          p99: number;
          codes: Record<string, number>;
          non2xx: number;
          x5xx: number;
          errors: number;
          timeouts: number;
        };
        resolve({
          requests: r.total,
          durationSeconds: r.duration,
          requestsPerSecond: Math.round(r.total / r.duration),
          latencyP50Ms: r.p50,
          latencyP99Ms: r.p99,
          statusCodes: r.codes,
          non2xx: r.non2xx,
          errors5xx: r.x5xx,
          errors: r.errors + r.timeouts,
        });
      } catch {
        reject(new Error(`autocannon child printed no result: ${out.slice(0, 200)}`));
      }
    });
  });
}

/** Creates `count` channels through the API; returns their ids. */
export async function createChannels(apiUrl: string, token: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const res = await fetch(`${apiUrl}/channels`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        listenMentions: true,
        listenDms: i % 2 === 0,
        autoFollow: false,
        name: `load ${i}`,
      }),
    });
    if (res.status !== 201) throw new Error(`POST /channels answered ${res.status}`);
    ids.push(((await res.json()) as { id: string }).id);
  }
  return ids;
}

/** Sum of the channels' versions (every successful PATCH that changes something adds exactly 1). */
export async function sumVersions(apiUrl: string, token: string, ids: string[]): Promise<number> {
  let sum = 0;
  for (const id of ids) {
    const res = await fetch(`${apiUrl}/channels/${id}`, { headers: { authorization: `Bearer ${token}` } });
    if (res.status !== 200) throw new Error(`GET /channels/{id} answered ${res.status}`);
    sum += ((await res.json()) as { version: number }).version;
  }
  return sum;
}

/** Non-2xx responses other than the expected 412s of contended PATCHes. */
const unexpectedNon2xx = (s: AutocannonSummary, expected: string[] = []) =>
  Object.entries(s.statusCodes)
    .filter(([code]) => !code.startsWith('2') && !expected.includes(code))
    .reduce((sum, [, n]) => sum + n, 0);

/**
 * Loads the admin API and returns `adminApi.*` figures: requests/s and p99 per route, the expected
 * 412s of contended PATCHes, and what must be 0: unexpected non-2xx, 5xx, socket errors, and lost
 * updates (200 PATCHes that did not add exactly one channel version).
 */
export async function benchAdminLoad(opts: {
  quick: boolean;
  /** Reuse a running DynamoDB Local (a table of our own is made); default: start one in memory. */
  dynamodbEndpoint?: string;
  progress?: (message: string) => void;
}): Promise<Record<string, number>> {
  const progress = opts.progress ?? ((m: string) => process.stderr.write(`${m}\n`));
  const durationSeconds = opts.quick ? 3 : 10;
  const connections = 10;
  const channelCount = 20;
  // `local.json` is written even in memory mode: keep it out of the developer's `.x-channel/`.
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'xc-load-admin-'));
  let stack: LocalStack | undefined;
  try {
    stack = await startLocal({
      memory: true,
      dataDir,
      functions: ['api'],
      ...(opts.dynamodbEndpoint
        ? { dynamodbEndpoint: opts.dynamodbEndpoint, tableName: `xc-load-admin-${process.pid}-${Date.now()}` }
        : {}),
    });
    const failed = stack.failed.find((f) => f.name === 'api');
    if (failed) throw new Error(`the api function failed to load: ${failed.reason}`);
    const { apiUrl, adminToken } = stack.localJson;
    progress(`admin load: creating ${channelCount} channels`);
    const ids = await createChannels(apiUrl, adminToken, channelCount);
    const headers = { authorization: `Bearer ${adminToken}` };
    const run = (variants: LoadRequest[]) =>
      runAutocannon({ url: apiUrl, headers, variants, connections, durationSeconds });

    progress(`admin load: GET /channels for ${durationSeconds} s`);
    const list = await run([{ method: 'GET', path: '/channels' }]);
    progress(`admin load: GET /channels/{id} for ${durationSeconds} s`);
    const get = await run(ids.map((id) => ({ method: 'GET', path: `/channels/${id}` })));
    progress(`admin load: PATCH /channels/{id} for ${durationSeconds} s`);
    const versionsBefore = await sumVersions(apiUrl, adminToken, ids);
    const patch = await run(
      ids.map((id) => ({
        method: 'PATCH',
        path: `/channels/${id}`,
        headers: { 'content-type': 'application/json' },
        body: '{"name":"load {n}"}',
      })),
    );
    // Each 200 set a fresh name, so it added one version; fewer versions than 200s = a lost update.
    // Requests cut by autocannon's stop may still complete on the server (more versions, not fewer):
    // let them land first.
    await new Promise((r) => setTimeout(r, 500));
    const versionsAdded = (await sumVersions(apiUrl, adminToken, ids)) - versionsBefore;
    return {
      'adminApi.getChannelsRps': list.requestsPerSecond,
      'adminApi.getChannelsP99Ms': list.latencyP99Ms,
      'adminApi.getChannelRps': get.requestsPerSecond,
      'adminApi.getChannelP99Ms': get.latencyP99Ms,
      'adminApi.patchRps': patch.requestsPerSecond,
      'adminApi.patchP99Ms': patch.latencyP99Ms,
      'adminApi.patchExpected412': patch.statusCodes['412'] ?? 0,
      'adminApi.unexpectedNon2xx':
        unexpectedNon2xx(list) + unexpectedNon2xx(get) + unexpectedNon2xx(patch, ['412']),
      'adminApi.patchLostUpdates': Math.max(0, (patch.statusCodes['200'] ?? 0) - versionsAdded),
      'adminApi.errors5xx': list.errors5xx + get.errors5xx + patch.errors5xx,
      'adminApi.socketErrors': list.errors + get.errors + patch.errors,
      'adminApi.connections': connections,
      'adminApi.secondsPerRoute': durationSeconds,
      'adminApi.channels': channelCount,
    };
  } finally {
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && /load-admin\.ts$/.test(process.argv[1])) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  process.env.LOG_LEVEL ??= 'ERROR';
  benchAdminLoad({ quick: process.argv.includes('--quick') }).then(
    (r) => {
      const width = Math.max(...Object.keys(r).map((k) => k.length));
      for (const [k, v] of Object.entries(r)) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
      const bad =
        r['adminApi.errors5xx'] +
        r['adminApi.unexpectedNon2xx'] +
        r['adminApi.socketErrors'] +
        r['adminApi.patchLostUpdates'];
      process.exitCode = bad === 0 ? 0 : 1;
    },
    (e: Error) => {
      process.stderr.write(`load-admin: ${e.message}\n`);
      process.exitCode = 1;
    },
  );
}
