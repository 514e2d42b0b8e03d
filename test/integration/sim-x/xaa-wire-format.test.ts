/**
 * Wire-format fidelity of the XAA and webhook endpoints: every one answers bodies that validate
 * against X's OpenAPI 2.167 response schemas (test/fixtures/x-openapi/xaa-responses.json).
 */
import { XAA_ENDPOINTS } from '../../../sim/x/limits';
import type { SimX } from '../../../sim/x/server';
import { signIn, startTestSim, validatedEndpoints, wireViolations } from './helpers';
import { checkWireFormat, XAA_OPENAPI_VERSION } from './openapi';
import { appBearerToken, call, startReceiver, type Receiver } from './xaa-helpers';

describe('sim-x XAA wire format against X OpenAPI', () => {
  let sim: SimX;
  let receiver: Receiver;
  beforeEach(async () => {
    sim = await startTestSim({ crcIntervalMs: 0 });
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await sim.stop();
    await receiver.stop();
  });

  it(`every XAA endpoint validates against spec ${XAA_OPENAPI_VERSION}`, async () => {
    const bearer = await appBearerToken(sim);
    const account = sim.createUser({ username: 'acme_help', name: 'Acme Help' });
    const user = (await signIn(sim, 'acme_help')).accessToken;
    const ok = async (method: string, path: string, token: string, body?: unknown) => {
      const res = await call(sim, method, path, token, body);
      expect([method, path, res.status]).toEqual([method, path, 200]);
      return res.body;
    };
    const hook = await ok('POST', '/2/webhooks', bearer, { url: receiver.url });
    await ok('GET', '/2/webhooks', bearer);
    await ok('PUT', `/2/webhooks/${hook.data.id}`, bearer);
    const subs = [];
    for (const eventType of ['post.mention.create', 'dm.received', 'chat.received']) {
      const created = await ok('POST', '/2/activity/subscriptions', user, {
        event_type: eventType,
        filter: { user_id: account.id },
        webhook_id: hook.data.id,
        tag: 't',
      });
      subs.push(created.data.subscription.subscription_id as string);
    }
    await ok('GET', '/2/activity/subscriptions', bearer);
    await ok('PUT', `/2/activity/subscriptions/${subs[0]}`, bearer, { tag: 'u' });
    await ok('DELETE', `/2/activity/subscriptions/${subs[0]}`, bearer);
    await ok('DELETE', `/2/activity/subscriptions?ids=${subs[1]},${subs[2]}`, bearer);
    const at = new Date(sim.now()).toISOString().replace(/[-T:]/g, '').slice(0, 12);
    await ok('POST', '/2/webhooks/replay', bearer, { webhook_id: hook.data.id, from_date: at, to_date: at });
    await sim.deliveriesIdle();
    await ok('DELETE', `/2/webhooks/${hook.data.id}`, bearer);

    expect(wireViolations(sim)).toEqual([]);
    expect(validatedEndpoints(sim)).toEqual([...XAA_ENDPOINTS].sort());
  });

  it('the validator catches an XAA body that breaks the schema', () => {
    expect(
      checkWireFormat(
        'POST /2/webhooks',
        200,
        JSON.stringify({ data: { id: '1', url: 'https://a.example' } }),
      ),
    ).toMatchObject({ endpoint: 'POST /2/webhooks' });
    expect(
      checkWireFormat('DELETE /2/activity/subscriptions/:subscription_id', 200, JSON.stringify({ data: {} })),
    ).toMatchObject({ errors: [expect.stringContaining('deleted')] });
  });
});
