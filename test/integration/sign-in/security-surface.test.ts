/**
 * Issue 19 acceptance through the real clients: the admin API handler as deployed, built by the real
 * `compose()` over DynamoDB Local, the Secrets Manager stand-in and the simulated X. Spoofing channel
 * names are refused with nothing written to the table (item 7); every answer of the API carries
 * `X-Content-Type-Options: nosniff`, and HSTS when the request came over https (item 6).
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../../adapters/aws/table';
import { HSTS } from '../../../lambdas/shared/security-headers';
import { createChannel, durableItems, signIn, startWorld, type World } from './harness';

let w: World;
beforeAll(async () => {
  w = await startWorld();
});
afterAll(() => w.stop());

const VALID = { listenMentions: true, listenDms: false, autoFollow: false };
// raw JSON text, so that a lone surrogate reaches the API as a browser could send it
const SPOOFS = [
  ['U+202E right-to-left override', '"Supp\\u202eroppus"'],
  ['U+200B zero-width space', '"Sup\\u200bport"'],
  ['U+0007 bell (control)', '"Support\\u0007"'],
  ['U+2066 left-to-right isolate', '"\\u2066Support"'],
  ['a lone surrogate', '"Sup\\ud800port"'],
] as const;

describe('spoofing channel names through the real clients (#19 item 7)', () => {
  it.each(SPOOFS)('create with %s → 400 naming body.name, nothing in DynamoDB', async (_what, json) => {
    const before = await durableItems(w);
    const res = await w.api({
      method: 'POST',
      path: '/channels',
      body: `{"listenMentions":true,"listenDms":false,"autoFollow":false,"name":${json}}`,
    });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(['body.name']);
    expect(await durableItems(w)).toBe(before);
  });

  it.each(SPOOFS)('rename to %s → 400, the stored name and version unchanged', async (_what, json) => {
    const c = await createChannel(w, { ...VALID, name: 'Support' });
    const res = await w.api({ method: 'PATCH', path: `/channels/${c.id}`, body: `{"name":${json}}` });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(['body.name']);
    const stored = await w.aws.clients.doc.send(
      new GetCommand({ TableName: w.aws.tableName, Key: keys.channel(c.id), ConsistentRead: true }),
    );
    expect(stored.Item).toMatchObject({ name: 'Support', version: 1 });
  });
});

describe('nosniff on every API answer through the real clients (#19 item 6)', () => {
  it('successes, problems, the callback page and the console page carry nosniff (and HSTS over https)', async () => {
    w.sim.createUser({ username: 'headers_1', name: 'Headers' });
    const c = await createChannel(w);
    const answers = {
      'POST /channels 201': await w.api({ method: 'POST', path: '/channels', body: VALID }),
      'GET /channels 200': await w.api({ method: 'GET', path: '/channels' }),
      'GET /channels/{id} 200': await w.api({ method: 'GET', path: `/channels/${c.id}` }),
      'GET /channels/{id}/health 200': await w.api({ method: 'GET', path: `/channels/${c.id}/health` }),
      'callback page 200': (await signIn(w, c.id, 'headers_1')).res,
      'forged cursor 400': await w.api({ method: 'GET', path: '/channels', query: 'cursor=%25%25' }),
      'unknown channel 404': await w.api({ method: 'GET', path: '/channels/ch_aaaaaaaaaaaaaaaaaaaa' }),
      'no token 401': await w.api({ method: 'GET', path: '/channels', sub: null }),
      'DELETE 200': await w.api({ method: 'DELETE', path: `/channels/${c.id}` }),
      'console page 200': await w.api({ method: 'GET', path: '/', sub: null }),
    };
    const seen = Object.fromEntries(
      Object.entries(answers).map(([what, res]) => [
        what,
        {
          nosniff: res.headers['x-content-type-options'],
          hsts: res.headers['strict-transport-security'],
        },
      ]),
    );
    expect(Object.values(answers).map((r) => r.status)).toEqual([
      201, 200, 200, 200, 200, 400, 404, 401, 200, 200,
    ]);
    for (const what of Object.keys(answers)) expect(seen[what]).toEqual({ nosniff: 'nosniff', hsts: HSTS });
  });
});
