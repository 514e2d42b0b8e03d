/**
 * Benchmark of the simulated X's mention-timeline reads (`GET /2/users/:id/mentions`), the request
 * the connector makes most, with the connector's full field and expansion set (adapters/x/x-reader.ts)
 * and full 100-post pages.
 *
 * - **Server alone**: sim-x runs in a child process (one Node process = one core) and autocannon
 *   loads it from this process over loopback: several connections, pipelining 1, a bounded duration,
 *   bearer tokens of several accounts with 1,000 mentions each, the `unlimited` tier. This is the
 *   simulator's own capacity (`simX.mentionReadsPerSecond`, `simX.mentionReadsP99Ms`).
 * - **End to end through the client**: twitter-api-v2 clients in this process read the same child
 *   server (`simX.endToEndReadsPerSecond`); the client's own cost is part of that figure.
 *
 * Run alone with `npx tsx bench/sim-x.ts [--quick] [--cpu-prof]`; `--cpu-prof` profiles the server
 * child (`node --cpu-prof`) and prints where its CPU time went.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { createXAppClient, createXUserClient } from '../adapters/x/client';
import { MENTION_FIELDS } from '../adapters/x/x-reader';
import { startSimX, type SimX } from '../sim/x/server';

const CHILD_FLAG = '--sim-x-bench-server';
const CLIENT_ID = 'bench';
const CLIENT_SECRET = 'bench-secret-0123456789';
const REDIRECT_URI = 'http://127.0.0.1:9/cb';
const PAGE = 100;

/** What the server child tells the bench once it listens and holds its data. */
interface ChildReady {
  type: 'ready';
  url: string;
  accounts: { id: string; username: string }[];
}
interface ChildCpu {
  type: 'cpu';
  /** Microseconds of user + system CPU since the child started. */
  micros: number;
}
type ChildMessage = ChildReady | ChildCpu;

/** The subset of autocannon's result the bench reads (the package ships no types). */
interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  throughput: { average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
}
type Autocannon = (opts: {
  url: string;
  connections: number;
  pipelining: number;
  duration: number;
  requests: { method: string; path: string; headers: Record<string, string> }[];
}) => Promise<AutocannonResult>;

const customerLines = [
  'my order {n} arrived broken, can you help?',
  'hola, el pedido {n} no ha llegado todavía, ¿me ayudan por favor?',
  'still waiting for a refund on {n} #refund',
  'the app crashes when I open order {n} https://example.com/screens/{n}',
  'gracias por la respuesta, pero el problema con {n} sigue igual',
  'can I change the delivery address for {n}? #delivery',
];

/** Seeds `accounts` business accounts with `perAccount` mentions each, in a realistic mix. */
function seed(sim: SimX, accounts: number, perAccount: number) {
  const customers = Array.from({ length: 40 }, (_, i) =>
    sim.createUser({ username: `bench_cust_${i}`, name: `Customer ${i}` }),
  );
  const out: { id: string; username: string }[] = [];
  for (let a = 0; a < accounts; a++) {
    const username = `bench_acct_${a}`;
    const { id } = sim.createUser({ username, name: `Bench Support ${a}` });
    out.push({ id, username });
  }
  // Interleave accounts so every timeline spans the same id range, as on a shared X.
  for (let k = 0; k < perAccount; k++) {
    for (let a = 0; a < accounts; a++) {
      const account = out[a];
      const customer = customers[(k * 7 + a) % customers.length];
      const line = customerLines[k % customerLines.length].replaceAll('{n}', `A${a}-${k}`);
      const kind = k % 10;
      if (kind === 3) {
        // A customer answering the account's post: a reply that mentions it implicitly.
        const post = sim.createTweet({ authorId: account.id, text: `We are on it, case A${a}-${k}` });
        sim.createTweet({ authorId: customer.id, text: line, inReplyToId: post.id });
      } else {
        sim.createTweet({
          authorId: customer.id,
          text: `@${account.username} ${line}`,
          mediaCount: kind === 5 ? 2 : kind === 8 ? 1 : 0,
          longText: kind === 7,
        });
      }
    }
  }
  return out;
}

/** Child mode: start the simulator, seed it, report readiness, answer CPU probes, stop on request. */
async function serveChild() {
  const accounts = Number(process.env.SIM_X_BENCH_ACCOUNTS ?? 6);
  const perAccount = Number(process.env.SIM_X_BENCH_MENTIONS ?? 1000);
  const sim = await startSimX({ tier: 'unlimited' });
  sim.registerApp({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    name: 'Bench',
    redirectUris: [REDIRECT_URI],
  });
  const seeded = seed(sim, accounts, perAccount);
  const send = (m: ChildMessage) => process.send?.(m);
  process.on('message', (m: { type: string }) => {
    if (m.type === 'cpu') {
      const u = process.cpuUsage();
      send({ type: 'cpu', micros: u.user + u.system });
    } else if (m.type === 'stop') {
      // A normal exit, so --cpu-prof writes its profile.
      void sim.stop().then(() => process.exit(0));
    }
  });
  send({ type: 'ready', url: sim.url, accounts: seeded });
}

/** A forked server child with request/response helpers over IPC. */
class ServerChild {
  private waiters: ((m: ChildMessage) => void)[] = [];
  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m: ChildMessage) => this.waiters.shift()?.(m));
  }

  static async start(opts: { accounts: number; perAccount: number; profileDir?: string }) {
    const child = fork(__filename, [CHILD_FLAG], {
      // Keep tsx's loader flags (how this file runs at all) and add the profiler when asked.
      execArgv: [
        ...process.execArgv,
        ...(opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`] : []),
      ],
      env: {
        ...process.env,
        SIM_X_BENCH_ACCOUNTS: String(opts.accounts),
        SIM_X_BENCH_MENTIONS: String(opts.perAccount),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const server = new ServerChild(child);
    const ready = await new Promise<ChildReady>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`sim-x bench child exited early (${code})`)));
      server.waiters.push((m) => resolve(m as ChildReady));
    });
    child.removeAllListeners('exit');
    return { server, ready };
  }

  /** CPU microseconds the child has used so far. */
  async cpuMicros(): Promise<number> {
    const reply = new Promise<ChildMessage>((resolve) => this.waiters.push(resolve));
    this.child.send({ type: 'cpu' });
    return ((await reply) as ChildCpu).micros;
  }

  async stop(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.send({ type: 'stop' });
    await exited;
  }
}

/** Signs `username` in through the authorize form and the code exchange, like the connector. */
async function signIn(url: string, username: string, state: string): Promise<string> {
  const app = createXAppClient({ apiBaseUrl: url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  const link = app.generateOAuth2AuthLink(REDIRECT_URI, {
    scope: ['tweet.read', 'users.read', 'offline.access'],
    state,
  });
  const authUrl = new URL(link.url);
  const res = await fetch(`${url}${authUrl.pathname}${authUrl.search}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username, decision: 'allow' }).toString(),
    redirect: 'manual',
  });
  const code = new URL(res.headers.get('location') ?? '').searchParams.get('code');
  if (!code) throw new Error(`sign-in of @${username} returned no code (status ${res.status})`);
  const login = await app.loginWithOAuth2({
    code,
    codeVerifier: link.codeVerifier,
    redirectUri: REDIRECT_URI,
  });
  return login.accessToken;
}

const mentionsPath = (id: string, extra: Record<string, string> = {}) =>
  `/2/users/${id}/mentions?${new URLSearchParams({ ...MENTION_FIELDS, max_results: String(PAGE), ...extra }).toString()}`;

/**
 * The request mix: per account its newest page and the next pages by pagination token (a backfill),
 * all full 100-post pages with the connector's fields. Every path is checked once before loading.
 */
async function requestMix(url: string, accounts: { id: string; token: string }[], pages: number) {
  const requests: { method: string; path: string; headers: Record<string, string> }[] = [];
  for (const account of accounts) {
    const headers = { authorization: `Bearer ${account.token}` };
    let token: string | undefined;
    for (let p = 0; p < pages; p++) {
      const path = mentionsPath(account.id, token ? { pagination_token: token } : {});
      const res = await fetch(`${url}${path}`, { headers });
      if (res.status !== 200) throw new Error(`warm-up read answered ${res.status}`);
      const body = (await res.json()) as { data?: unknown[]; meta: { next_token?: string } };
      if (body.data?.length !== PAGE) throw new Error(`warm-up page ${p} has ${body.data?.length} posts`);
      requests.push({ method: 'GET', path, headers });
      token = body.meta.next_token;
      if (!token) break;
    }
  }
  return requests;
}

/** Mention reads through twitter-api-v2 (clients here, server in the child) for `durationMs`. */
async function endToEnd(url: string, accounts: { id: string; token: string }[], durationMs: number) {
  const clients = accounts.map((a) => ({
    id: a.id,
    client: createXUserClient({ apiBaseUrl: url, accessToken: a.token }),
  }));
  const query = { ...MENTION_FIELDS, max_results: PAGE };
  await Promise.all(clients.map((c) => c.client.v2.get(`users/${c.id}/mentions`, query)));
  const started = performance.now();
  const until = started + durationMs;
  const counts = await Promise.all(
    clients.map(async (c) => {
      let n = 0;
      while (performance.now() < until) {
        await c.client.v2.get(`users/${c.id}/mentions`, query);
        n++;
      }
      return n;
    }),
  );
  const total = counts.reduce((a, b) => a + b, 0);
  return { total, seconds: (performance.now() - started) / 1000 };
}

/** Top self-time functions of a .cpuprofile, for `--cpu-prof`. */
function summariseProfile(dir: string, top = 25): string {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return `no profile written in ${dir}`;
  const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as {
    nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
    samples: number[];
  };
  const byNode = new Map<number, number>();
  for (const s of profile.samples) byNode.set(s, (byNode.get(s) ?? 0) + 1);
  const byFn = new Map<string, number>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url
      ? `${url.replace(/^.*node_modules\//, '~/').replace(/^.*\/(sim|bench)\//, '$1/')}:${lineNumber + 1}`
      : '';
    const key = `${functionName || '(anonymous)'} ${where}`;
    byFn.set(key, (byFn.get(key) ?? 0) + (byNode.get(node.id) ?? 0));
  }
  const total = profile.samples.length || 1;
  return [...byFn.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, n]) => `${((n / total) * 100).toFixed(1).padStart(5)}%  ${k}`)
    .join('\n');
}

/**
 * Measures sim-x mention-read throughput; keys are `simX.*`. `simX.mentionReadsPerSecond` and
 * `simX.mentionReadsP99Ms` are the server alone (autocannon against a one-process server);
 * `simX.endToEndReadsPerSecond` goes through twitter-api-v2.
 */
export async function benchSimX(opts: {
  quick: boolean;
  cpuProfile?: boolean;
}): Promise<Record<string, number>> {
  const accountCount = opts.quick ? 4 : 8;
  const profileDir = opts.cpuProfile ? mkdtempSync(path.join(os.tmpdir(), 'sim-x-prof-')) : undefined;
  const { server, ready } = await ServerChild.start({ accounts: accountCount, perAccount: 1000, profileDir });
  try {
    const accounts: { id: string; token: string }[] = [];
    for (const [i, a] of ready.accounts.entries())
      accounts.push({ id: a.id, token: await signIn(ready.url, a.username, `s${i}`) });
    const requests = await requestMix(ready.url, accounts, 4);

    const autocannon = createRequire(__filename)('autocannon') as Autocannon;
    const connections = 8;
    const duration = opts.quick ? 3 : 10;
    const cpuBefore = await server.cpuMicros();
    const result = await autocannon({ url: ready.url, connections, pipelining: 1, duration, requests });
    const cpuSeconds = ((await server.cpuMicros()) - cpuBefore) / 1e6;

    const e2e = await endToEnd(ready.url, accounts, opts.quick ? 1000 : 5000);
    return {
      'simX.mentionReadsPerSecond': Math.round(result.requests.total / result.duration),
      'simX.mentionReadsP50Ms': result.latency.p50,
      'simX.mentionReadsP99Ms': result.latency.p99,
      'simX.mentionReadsNon2xx': result.non2xx,
      'simX.mentionReadsErrors': result.errors + result.timeouts,
      // Reads per second of the server's own CPU: robust against other load on the machine.
      'simX.mentionReadsPerServerCpuSecond': Math.round(result.requests.total / cpuSeconds),
      'simX.mentionReadsMBPerSecond': Math.round(result.throughput.average / 1e5) / 10,
      'simX.connections': connections,
      'simX.postsPerPage': PAGE,
      'simX.endToEndReadsPerSecond': Math.round(e2e.total / e2e.seconds),
      'simX.endToEndClients': accounts.length,
    };
  } finally {
    await server.stop();
    if (profileDir)
      process.stderr.write(`sim-x server CPU profile (${profileDir}):\n${summariseProfile(profileDir)}\n`);
  }
}

if (process.argv.includes(CHILD_FLAG)) {
  serveChild().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
} else if (process.argv[1] && /sim-x\.ts$/.test(process.argv[1])) {
  benchSimX({
    quick: process.argv.includes('--quick'),
    cpuProfile: process.argv.includes('--cpu-prof'),
  }).then(
    (r) => console.table(r),
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
