/**
 * Issue 19 item 6: `X-Content-Type-Options: nosniff` on every answer of the api and webhook
 * functions; `Strict-Transport-Security` only when the request came over https.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createApp } from '../../../lambdas/api/app';
import { createApp as createWebhookApp } from '../../../lambdas/webhook/app';
import type { WebhookRuntime } from '../../../lambdas/webhook/compose';
import { createLogger } from '../../../lambdas/shared/logger';
import { createMetrics } from '../../../lambdas/shared/metrics';
import { cameOverHttps, HSTS } from '../../../lambdas/shared/security-headers';
import { apiEvent, call, lambdaContext, type ApiFn } from './events';
import { fakeApiDeps } from './deps';

const VALID = { listenMentions: true, listenDms: false, autoFollow: false };
const HTTP = { 'x-forwarded-proto': 'http' };

function expectSecure(res: { headers: Record<string, unknown> }, https = true) {
  expect(res.headers['x-content-type-options']).toBe('nosniff');
  if (https) expect(res.headers['strict-transport-security']).toBe(HSTS);
  else expect(res.headers['strict-transport-security']).toBeUndefined();
}

describe('api function: security headers', () => {
  const handler = () => createApp(fakeApiDeps().deps);

  it('a JSON success carries nosniff and, over https, HSTS', async () => {
    const res = await call(handler(), { method: 'POST', path: '/channels', body: VALID });
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expectSecure(res);
  });

  it('a problem (validation, 401, 404, 405) carries them too', async () => {
    const h = handler();
    const answers = [
      await call(h, { method: 'POST', path: '/channels', body: { ...VALID, listenDms: 'yes' } }),
      await call(h, { method: 'GET', path: '/channels', sub: null }),
      await call(h, { method: 'GET', path: '/nope' }),
      await call(h, { method: 'PUT', path: '/channels/x', routeKey: 'PUT /channels/{id}' }),
    ];
    expect(answers.map((a) => a.status)).toEqual([400, 401, 404, 405]);
    for (const res of answers) {
      expect(res.headers['content-type']).toBe('application/problem+json');
      expectSecure(res);
    }
  });

  it('a 500 carries them', async () => {
    const f = fakeApiDeps();
    f.deps.channels.list = async () => {
      throw new Error('boom');
    };
    const res = await call(createApp(f.deps), { method: 'GET', path: '/channels' });
    expect(res.status).toBe(500);
    expectSecure(res);
  });

  it('the console page and the callback page carry them', async () => {
    const h = handler();
    const page = await call(h, { method: 'GET', path: '/', sub: null });
    expect([200, 404]).toContain(page.status);
    expectSecure(page);
    const callback = await call(h, { method: 'GET', path: '/oauth/callback', query: 'state=x', sub: null });
    expect(callback.headers['content-type']).toMatch(/text\/html/);
    expectSecure(callback);
  });

  it('over plain http (the local host) nosniff but no HSTS', async () => {
    const h = handler();
    expectSecure(await call(h, { method: 'POST', path: '/channels', body: VALID, headers: HTTP }), false);
    expectSecure(await call(h, { method: 'GET', path: '/nope', headers: HTTP }), false);
    expectSecure(await call(h, { method: 'GET', path: '/', sub: null, headers: HTTP }), false);
  });

  it('https is read from X-Forwarded-Proto, else from API Gateway’s own domain', () => {
    const ev = (headers: Record<string, string>, domainName = 'abc.execute-api.eu-west-1.amazonaws.com') =>
      ({ headers, requestContext: { domainName } }) as unknown as Parameters<typeof cameOverHttps>[0];
    expect(cameOverHttps(ev({ 'x-forwarded-proto': 'https' }))).toBe(true);
    expect(cameOverHttps(ev({ 'X-Forwarded-Proto': 'https, http' }))).toBe(true);
    expect(cameOverHttps(ev({ 'x-forwarded-proto': 'http' }))).toBe(false);
    expect(cameOverHttps(ev({}))).toBe(true);
    expect(cameOverHttps(ev({}, 'localhost'))).toBe(false);
  });
});

describe('webhook function: security headers', () => {
  const SECRET = 'webhook-consumer-secret-for-tests';
  function webhook() {
    const runtime = {
      config: { WEBHOOK_MAX_BODY_BYTES: 1024 },
      deps: {},
      credentials: { get: async () => ({ apiKeySecret: SECRET }) },
      logger: createLogger({ logLevel: 'SILENT' }),
      metrics: createMetrics(),
    } as unknown as WebhookRuntime;
    return createWebhookApp(runtime) as unknown as ApiFn;
  }
  const send = async (fn: ApiFn, input: Parameters<typeof apiEvent>[0]) => {
    const event = apiEvent({ ...input, routeKey: `${input.method} /x/webhook`, sub: null });
    return (await fn(event, lambdaContext())) as { statusCode: number; headers: Record<string, unknown> };
  };

  it('the CRC answer (200) and problems (400, 401, 413) carry nosniff and HSTS over https', async () => {
    const fn = webhook();
    const token = randomBytes(24).toString('base64');
    const ok = await send(fn, {
      method: 'GET',
      path: '/x/webhook',
      query: `crc_token=${encodeURIComponent(token)}`,
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['content-type']).toBe('application/json');
    expectSecure(ok);
    const answers = [
      await send(fn, { method: 'GET', path: '/x/webhook', query: 'crc_token=short' }),
      await send(fn, { method: 'POST', path: '/x/webhook', body: '{"data":{}}' }),
      await send(fn, { method: 'POST', path: '/x/webhook', body: 'x'.repeat(2048) }),
    ];
    expect(answers.map((a) => a.statusCode)).toEqual([400, 401, 413]);
    for (const res of answers) {
      expect(res.headers['content-type']).toBe('application/problem+json');
      expectSecure(res);
    }
  });

  it('a signed but unreadable body (400) over http: nosniff, no HSTS', async () => {
    const fn = webhook();
    const body = '{"not":"a delivery"}';
    const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('base64')}`;
    const res = await send(fn, {
      method: 'POST',
      path: '/x/webhook',
      body,
      headers: { ...HTTP, 'x-twitter-webhooks-signature': signature },
    });
    expect(res.statusCode).toBe(400);
    expectSecure(res, false);
  });
});
