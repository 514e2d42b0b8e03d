/**
 * The v2 Webhooks API of the simulated X through X's own SDK (@xdevplatform/xdk WebhooksClient) and
 * a real receiver on loopback: app-only bearer from the API key and secret, registration with CRC,
 * invalid after a bad CRC answer (deliveries stop), re-validation, transient failures, limits, plans.
 */
import { ApiError } from '@xdevplatform/xdk';
import type { SimX } from '../../../sim/x/server';
import { API_KEY, signIn, startTestSim } from './helpers';
import { appBearerToken, call, startReceiver, xdkApp, type Receiver } from './xaa-helpers';

describe('sim-x webhooks', () => {
  let sim: SimX;
  let receiver: Receiver;
  let bearer: string;
  beforeEach(async () => {
    sim = await startTestSim({ crcIntervalMs: 0 });
    receiver = await startReceiver();
    bearer = await appBearerToken(sim);
  });
  afterEach(async () => {
    await sim.stop();
    await receiver.stop();
  });

  it('gives the app-only bearer token for the API key and secret, and refuses a wrong secret', async () => {
    expect(bearer).toMatch(/^AAAAAAAAAAAAAAAAAAAAA/);
    // X hands out the same token until it is invalidated.
    expect(await appBearerToken(sim)).toBe(bearer);
    await expect(appBearerToken(sim, API_KEY, 'wrong-secret')).rejects.toMatchObject({
      code: 403,
      data: { errors: [{ code: 99 }] },
    });
  });

  it('registers a webhook after a CRC the receiver answers, and lists it (XDK create/get)', async () => {
    const xdk = xdkApp(sim, bearer);
    const created = await xdk.webhooks.create({ url: receiver.url });
    expect(created.data).toMatchObject({ url: receiver.url, valid: true });
    expect(created.data?.id).toMatch(/^[0-9]{1,19}$/);
    expect(created.data?.createdAt).toBe(new Date(sim.now()).toISOString());
    // X's crc_token is an opaque base64 string.
    expect(receiver.crcTokens).toHaveLength(1);
    expect(receiver.crcTokens[0]).toMatch(/^[A-Za-z0-9+/=]{16,128}$/);

    const listed = await xdk.webhooks.get();
    expect(listed.data).toEqual([
      { id: created.data?.id, url: receiver.url, valid: true, createdAt: created.data?.createdAt },
    ]);
    expect(listed.meta).toEqual({ resultCount: 1 });
    const control = (await (await fetch(`${sim.url}/_sim/webhooks`)).json()) as unknown;
    expect(control).toEqual({ data: [{ id: created.data?.id, url: receiver.url, valid: true }] });
  });

  it('refuses a webhook whose CRC answer is wrong, redirected or failing, and registers nothing', async () => {
    for (const crc of ['wrong', 'redirect', 'error'] as const) {
      receiver.behaviour.crc = crc;
      const res = await call(sim, 'POST', '/2/webhooks', bearer, { url: receiver.url });
      expect(res.status).toBe(400);
      expect(res.body.errors[0].message).toBe('CrcValidationFailed');
    }
    expect(sim.state.webhooks).toEqual([]);
  });

  it('marks a webhook invalid after a bad periodic CRC answer and re-enables it on PUT (XDK validate)', async () => {
    const xdk = xdkApp(sim, bearer);
    const id = (await xdk.webhooks.create({ url: receiver.url })).data!.id;
    receiver.behaviour.crc = 'wrong';
    expect(await sim.runCrc()).toEqual([{ id, outcome: 'invalid', valid: false }]);
    expect((await xdk.webhooks.get()).data?.[0].valid).toBe(false);
    // An invalid webhook is not checked periodically: only a PUT brings it back.
    receiver.behaviour.crc = 'ok';
    expect(await sim.runCrc()).toEqual([]);
    await expect(xdk.webhooks.validate(id)).resolves.toEqual({ data: { valid: true } });
    expect((await xdk.webhooks.get()).data?.[0].valid).toBe(true);
    receiver.behaviour.crc = 'redirect';
    const failed = await xdk.webhooks.validate(id).catch((e: ApiError) => e);
    expect(failed).toBeInstanceOf(ApiError);
    expect((failed as ApiError).status).toBe(400);
    expect((failed as ApiError).data.errors[0].message).toBe('CrcValidationFailed');
    expect(sim.state.webhooks[0].valid).toBe(false);
  });

  it('treats 5xx CRC answers as transient until 28 h pass without a good one', async () => {
    const res = await fetch(`${sim.url}/_sim/webhooks/crc`, { method: 'POST' });
    expect(await res.json()).toEqual({ data: [] });
    const id = (await xdkApp(sim, bearer).webhooks.create({ url: receiver.url })).data!.id;
    receiver.behaviour.crc = 'error';
    sim.advanceClock(27 * 3_600_000);
    expect(await sim.runCrc()).toEqual([{ id, outcome: 'transient', valid: true }]);
    sim.advanceClock(2 * 3_600_000);
    expect(await sim.runCrc()).toEqual([{ id, outcome: 'transient', valid: false }]);
  });

  it('deletes a webhook (XDK delete) and answers WebhookIdInvalid for an unknown one', async () => {
    const xdk = xdkApp(sim, bearer);
    const id = (await xdk.webhooks.create({ url: receiver.url })).data!.id;
    await expect(xdk.webhooks.delete(id)).resolves.toEqual({ data: { deleted: true } });
    expect((await xdk.webhooks.get()).data).toEqual([]);
    const again = await call(sim, 'DELETE', `/2/webhooks/${id}`, bearer);
    expect(again.status).toBe(400);
    expect(again.body.errors[0].message).toBe('WebhookIdInvalid');
  });

  it('holds the URL rules, duplicates and the per-app webhook limit', async () => {
    const dup = await call(sim, 'POST', '/2/webhooks', bearer, { url: receiver.url });
    expect(dup.status).toBe(200);
    const again = await call(sim, 'POST', '/2/webhooks', bearer, { url: receiver.url });
    expect([again.status, again.body.errors[0].message]).toEqual([409, 'DuplicateUrlFailed']);
    const second = await call(sim, 'POST', '/2/webhooks', bearer, { url: `${receiver.url}/2` });
    expect([second.status, second.body.errors[0].message]).toEqual([403, 'WebhookLimitExceeded']);
    const strict = await startTestSim({ crcIntervalMs: 0, webhookUrlRule: 'x' });
    try {
      const res = await call(strict, 'POST', '/2/webhooks', await appBearerToken(strict), {
        url: receiver.url,
      });
      expect([res.status, res.body.errors[0].message]).toEqual([400, 'UrlValidationFailed']);
    } finally {
      await strict.stop();
    }
    const missing = await call(sim, 'POST', '/2/webhooks', bearer, {});
    expect(missing.status).toBe(400);
    expect(JSON.stringify(missing.body)).toContain('url');
  });

  it('takes only the app-only bearer token, and only on plans with the X Activity API', async () => {
    sim.createUser({ username: 'acme_help', name: 'Acme Help' });
    const login = await signIn(sim, 'acme_help');
    const asUser = await call(sim, 'GET', '/2/webhooks', login.accessToken);
    expect(asUser.status).toBe(403);
    expect(asUser.body.type).toMatch(/unsupported-authentication$/);
    expect((await call(sim, 'GET', '/2/webhooks', 'not-a-token')).status).toBe(401);
    for (const tier of ['basic', 'pro', 'free'] as const) {
      sim.setTier(tier);
      const res = await call(sim, 'GET', '/2/webhooks', bearer);
      expect(res.status).toBe(403);
      expect(res.body.type).toMatch(/client-forbidden$/);
    }
    sim.setTier('enterprise');
    expect((await call(sim, 'GET', '/2/webhooks', bearer)).status).toBe(200);
  });
});
