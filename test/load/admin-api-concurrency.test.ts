/**
 * The admin API under concurrent writers, through the local stack as `npm start` runs it (`startLocal`
 * with the `api` function behind the local API Gateway stand-in, DynamoDB Local through the real SDK):
 * no update is lost, a losing writer gets a clear answer it can retry, and a short burst of reads from
 * a second process gets no 5xx.
 *
 * What the API does with a race (lambdas/api/operations.ts, core/channels.ts `patchChannel`): every change
 * is a conditional write on the channel's `version`.
 * - With `If-Match` the admin asked for "this change on that version": a lost race is 412
 *   `version_mismatch` at once.
 * - Without it, the API re-reads and re-plans the change up to 5 times; if it still loses it answers
 *   412 `version_mismatch` (problem+json, no `Retry-After`: the client may retry immediately).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runAutocannon } from '../../bench/load-admin';
import type { LocalStack } from '../../local/start-local';
import { startApiOnly } from '../helpers/local-stack';

const N = 20;

interface Answer {
  status: number;
  contentType: string;
  etag: string | null;
  body: Record<string, unknown>;
}

describe('admin API under concurrent PATCHes', () => {
  let dataDir: string;
  let stack: LocalStack;
  let apiUrl: string;
  let auth: Record<string, string>;

  const call = async (
    method: string,
    urlPath: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const res = await fetch(`${apiUrl}${urlPath}`, {
      method,
      headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return {
      status: res.status,
      contentType: res.headers.get('content-type') ?? '',
      etag: res.headers.get('etag'),
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    } satisfies Answer;
  };

  const createChannel = async (name: string) => {
    const res = await call('POST', '/channels', {
      listenMentions: true,
      listenDms: true,
      autoFollow: false,
      name,
    });
    expect(res.status).toBe(201);
    return res.body as { id: string; version: number };
  };

  /** The channel as the API serves it, minus the per-answer `warnings`. */
  const view = (body: Record<string, unknown>) => {
    const { warnings: _warnings, ...rest } = body;
    return rest;
  };

  beforeAll(async () => {
    process.env.LOG_LEVEL = 'ERROR';
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'xc-load-'));
    stack = await startApiOnly({ dataDir, tableName: `xc-load-${process.pid}-${Date.now()}` });
    apiUrl = stack.localJson.apiUrl;
    auth = { authorization: `Bearer ${stack.localJson.adminToken}` };
  });
  afterAll(async () => {
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('20 PATCHes with the same If-Match: exactly one wins, 19 get 412 problem+json, the winner is what is stored', async () => {
    const { id, version } = await createChannel('if-match race');

    const answers = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        call('PATCH', `/channels/${id}`, { name: `writer ${i}` }, { 'if-match': `"${version}"` }),
      ),
    );

    const winners = answers.filter((a) => a.status === 200);
    const losers = answers.filter((a) => a.status !== 200);
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(N - 1);
    for (const a of losers) {
      expect(a.status).toBe(412);
      expect(a.contentType).toMatch(/^application\/problem\+json/);
      expect(a.body).toMatchObject({ status: 412, code: 'version_mismatch' });
    }
    const final = await call('GET', `/channels/${id}`);
    expect(final.status).toBe(200);
    expect(final.body.version).toBe(version + 1);
    expect(final.etag).toBe(`"${version + 1}"`);
    expect(final.body.name).toBe(winners[0].body.name);
    expect(view(final.body)).toEqual(view(winners[0].body));
  });

  it('20 PATCHes without If-Match: each is 200 or a retryable 412, no 5xx, and no update is lost', async () => {
    const { id, version: v0 } = await createChannel('last-writer race');
    // Every request changes the name (so every success is a write); odd ones also flip autoFollow.
    const bodies = Array.from({ length: N }, (_, i) =>
      i % 2 === 0 ? { name: `b ${i}` } : { name: `b ${i}`, autoFollow: i % 4 === 1 },
    );

    const answers = await Promise.all(bodies.map((b) => call('PATCH', `/channels/${id}`, b)));

    for (const a of answers) {
      expect([200, 412]).toContain(a.status);
      if (a.status === 412) {
        expect(a.contentType).toMatch(/^application\/problem\+json/);
        expect(a.body).toMatchObject({ status: 412, code: 'version_mismatch' });
      }
    }
    const ok = answers.map((a, i) => ({ a, body: bodies[i] })).filter(({ a }) => a.status === 200);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    // Each success carries its own change, on a version of its own: v0+1 … v0+k without gaps.
    for (const { a, body } of ok) {
      expect(a.body).toMatchObject(body);
      expect(a.etag).toBe(`"${a.body.version as number}"`);
    }
    const versions = ok.map(({ a }) => a.body.version as number).sort((x, y) => x - y);
    expect(versions).toEqual(Array.from({ length: ok.length }, (_, k) => v0 + 1 + k));
    const last = ok.find(({ a }) => a.body.version === v0 + ok.length)!;
    const afterRace = await call('GET', `/channels/${id}`);
    expect(view(afterRace.body)).toEqual(view(last.a.body));

    // "Retryable": each loser, retried once on its own, goes through.
    const retried = answers.map((a, i) => ({ a, body: bodies[i] })).filter(({ a }) => a.status === 412);
    for (const { body } of retried) {
      const again = await call('PATCH', `/channels/${id}`, body);
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject(body);
    }
    const final = await call('GET', `/channels/${id}`);
    expect(final.body.version).toBe(v0 + N);
  });

  it('a 2 s autocannon burst on GET /channels from a second process gets no 5xx and no error', async () => {
    await createChannel('burst');
    const result = await runAutocannon({
      url: apiUrl,
      headers: auth,
      variants: [{ method: 'GET', path: '/channels' }],
      connections: 8,
      durationSeconds: 2,
    });
    expect(result.requests).toBeGreaterThan(0);
    expect(result.errors5xx).toBe(0);
    expect(result.errors).toBe(0);
    expect(result.statusCodes).toEqual({ '200': result.requests });
  });
});
