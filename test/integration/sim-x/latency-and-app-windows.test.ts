/**
 * Two things the benchmark's "harsh world" leans on, through the control API and twitter-api-v2:
 * `PUT /_sim/latency` sets (and `GET` reads) the added latency profile, a bad one is a 400 naming the
 * field; and a read made with a user's token counts in that user's window only — X's per-app limits
 * apply to app-only Bearer calls (docs.x.com/fundamentals/rate-limits) — so many accounts together
 * may read mentions more often than the per-app 450 / 15 min.
 */
import type { SimX } from '../../../sim/x/server';
import { signIn, startTestSim, wireViolations } from './helpers';

describe('sim-x latency control and per-user read windows', () => {
  let sim: SimX;
  beforeEach(async () => {
    sim = await startTestSim();
  });
  afterEach(async () => {
    await sim.stop();
    expect(wireViolations(sim)).toEqual([]);
  });

  const control = (method: string, body?: unknown) =>
    fetch(`${sim.url}/_sim/latency`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it('PUT /_sim/latency sets the profile, GET reads it, a bad one names the field', async () => {
    expect(await (await control('GET')).json()).toEqual({ p50Ms: 0, p99Ms: 0, maxMs: 0 });
    const put = await control('PUT', { p50Ms: 5, p99Ms: 20 });
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ p50Ms: 5, p99Ms: 20, maxMs: 200 });
    expect(sim.latency()).toEqual({ p50Ms: 5, p99Ms: 20, maxMs: 200 });
    const bad = await control('PUT', { p50Ms: 50, p99Ms: 10 });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'invalid_input', field: 'p99Ms' });
    const unknown = await control('PUT', { p50Ms: 5, p99Ms: 20, jitter: 1 });
    expect(await unknown.json()).toMatchObject({ error: 'invalid_input', field: 'jitter' });
    expect(sim.latency().p50Ms).toBe(5);
    // the API still answers with the profile on
    sim.createUser({ username: 'acme_help_lat', name: 'Acme' });
    const { client } = await signIn(sim, 'acme_help_lat');
    expect((await client.v2.me()).data.username).toBe('acme_help_lat');
  });

  it('user-token mention reads of several accounts are not capped by the per-app window', async () => {
    sim.setTier('pay-per-use');
    const a = sim.createUser({ username: 'acct_a', name: 'A' });
    const b = sim.createUser({ username: 'acct_b', name: 'B' });
    const ca = (await signIn(sim, 'acct_a')).client;
    const cb = (await signIn(sim, 'acct_b')).client;
    // 300 (A's whole user window) + 200 = 500 reads, beyond the per-app 450 / 15 min
    for (let i = 0; i < 300; i++) await ca.v2.userMentionTimeline(a.id);
    for (let i = 0; i < 200; i++) await cb.v2.userMentionTimeline(b.id);
    const statuses = sim
      .rateLimitLog()
      .filter((e) => e.endpoint === 'GET /2/users/:id/mentions')
      .map((e) => e.status);
    expect(statuses).toHaveLength(500);
    expect(statuses.filter((s) => s === 429)).toEqual([]);
    // A's own window is still enforced
    await expect(ca.v2.userMentionTimeline(a.id)).rejects.toMatchObject({ code: 429 });
  });
});
