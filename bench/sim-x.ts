/**
 * Benchmark of the simulated X: mention-timeline reads per second through twitter-api-v2 (the
 * client the connector uses), several concurrent clients, server and clients in this one process.
 * Run alone with `npx tsx bench/sim-x.ts` (add `--quick` for a short run).
 */
import { createXAppClient, createXUserClient } from '../adapters/x/client';
import { startSimX } from '../sim/x/server';

/** Measures sim-x throughput; keys are `simX.*`. */
export async function benchSimX(opts: { quick: boolean }): Promise<Record<string, number>> {
  const sim = await startSimX({ tier: 'unlimited' });
  try {
    const redirectUri = 'http://127.0.0.1:9/cb';
    sim.registerApp({
      clientId: 'bench',
      clientSecret: 'bench-secret-0123456789',
      name: 'Bench',
      redirectUris: [redirectUri],
    });
    const clients = 8;
    const accounts: { id: string; token: string }[] = [];
    const app = createXAppClient({
      apiBaseUrl: sim.url,
      clientId: 'bench',
      clientSecret: 'bench-secret-0123456789',
    });
    for (let i = 0; i < clients; i++) {
      const { id } = sim.createUser({ username: `bench_${i}`, name: `Bench ${i}` });
      const customer = sim.createUser({ username: `cust_${i}`, name: `Customer ${i}` });
      for (let k = 0; k < 50; k++)
        sim.createTweet({ authorId: customer.id, text: `@bench_${i} help with order ${k}` });
      // Sign in through the real authorize form + code exchange, like the connector.
      const link = app.generateOAuth2AuthLink(redirectUri, {
        scope: ['tweet.read', 'users.read', 'offline.access'],
        state: `s${i}`,
      });
      const url = new URL(link.url);
      const res = await fetch(`${sim.url}${url.pathname}${url.search}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ username: `bench_${i}`, decision: 'allow' }).toString(),
        redirect: 'manual',
      });
      const code = new URL(res.headers.get('location') ?? '').searchParams.get('code') ?? '';
      const login = await app.loginWithOAuth2({ code, codeVerifier: link.codeVerifier, redirectUri });
      accounts.push({ id, token: login.accessToken });
    }
    const durationMs = opts.quick ? 1500 : 5000;
    const read = async (account: { id: string; token: string }) => {
      const client = createXUserClient({ apiBaseUrl: sim.url, accessToken: account.token });
      let n = 0;
      const until = performance.now() + durationMs;
      while (performance.now() < until) {
        await client.v2.userMentionTimeline(account.id, {
          max_results: 10,
          'tweet.fields': ['author_id', 'created_at', 'conversation_id'],
          expansions: ['author_id'],
        });
        n++;
      }
      return n;
    };
    // warm-up
    await Promise.all(
      accounts.map((a) =>
        createXUserClient({ apiBaseUrl: sim.url, accessToken: a.token }).v2.userMentionTimeline(a.id),
      ),
    );
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const counts = await Promise.all(accounts.map(read));
    const elapsed = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    // CPU seconds of this process (server + clients): robust against other load on the machine.
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const total = counts.reduce((a, b) => a + b, 0);
    return {
      'simX.mentionReadsPerSecond': Math.round(total / elapsed),
      'simX.mentionReadsPerCpuSecond': Math.round(total / cpuSeconds),
      'simX.concurrentClients': clients,
      'simX.requests': total,
      'simX.seconds': Math.round(elapsed * 100) / 100,
    };
  } finally {
    await sim.stop();
  }
}

if (process.argv[1] && /sim-x\.ts$/.test(process.argv[1])) {
  benchSimX({ quick: process.argv.includes('--quick') }).then(
    (r) => console.table(r),
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
