/**
 * The admin group (issue 19 item 8): with `ADMIN_GROUP`, the admin routes require that group in the
 * token's `cognito:groups`, as API Gateway's HTTP API JWT authorizer delivers it (an array claim becomes
 * one string, `"[a b]"`). Run through the handler as deployed (middy, routing, problem mapping).
 */
import { createApp, groupsOf } from '../../../lambdas/api/app';
import { loadConfig } from '../../../lambdas/api/config';
import { call } from './events';
import { fakeApiDeps } from './deps';

const GROUP = 'xc-admins';
const setup = (env: Record<string, string> = {}) => createApp(fakeApiDeps(env).deps);

describe('ADMIN_GROUP: only members of the group are admins', () => {
  // Prepare
  const handler = setup({ ADMIN_GROUP: GROUP });

  it.each([
    ['API Gateway form, among others', `[ops ${GROUP} readers]`],
    ['API Gateway form, alone', `[${GROUP}]`],
    ['a JSON array', [GROUP, 'ops']],
    ['a single name', GROUP],
  ])('member (%s): the admin routes answer', async (_, groups) => {
    // Act
    const list = await call(handler, {
      method: 'GET',
      path: '/channels',
      claims: { 'cognito:groups': groups },
    });
    const create = await call(handler, {
      method: 'POST',
      path: '/channels',
      body: { listenMentions: true, listenDms: false, autoFollow: false },
      claims: { 'cognito:groups': groups },
    });
    // Assess
    expect(list.status).toBe(200);
    expect(create.status).toBe(201);
  });

  it.each([
    ['no groups claim', undefined],
    ['other groups', '[ops readers]'],
    ['a longer name that starts with the group', `[${GROUP}-old]`],
    ['an empty list', '[]'],
    ['a number', 42],
  ])('not a member (%s): 403 not_an_admin naming the header, nothing done', async (_, groups) => {
    const claims = groups === undefined ? {} : { 'cognito:groups': groups };
    const asMember = { 'cognito:groups': `[${GROUP}]` };
    const before = await call(handler, { method: 'GET', path: '/channels', claims: asMember });
    const res = await call(handler, {
      method: 'POST',
      path: '/channels',
      body: { listenMentions: true, listenDms: false, autoFollow: false },
      claims,
    });
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.body).toMatchObject({ code: 'not_an_admin', status: 403 });
    expect(res.body.detail).toContain(GROUP);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(['header.authorization']);
    const after = await call(handler, { method: 'GET', path: '/channels', claims: asMember });
    expect(after.body.items).toEqual(before.body.items);
  });

  it('a token without sub is still 401 first', async () => {
    const res = await call(handler, { method: 'GET', path: '/channels', sub: null });
    expect(res.status).toBe(401);
  });

  it('public routes do not ask for the group (the callback answers its own refusal)', async () => {
    const res = await call(handler, { method: 'GET', path: '/oauth/callback', sub: null });
    expect(res.status).toBe(400);
  });
});

describe('without ADMIN_GROUP every user of the pool is an admin', () => {
  it('a token with no groups lists channels', async () => {
    const res = await call(setup(), { method: 'GET', path: '/channels' });
    expect(res.status).toBe(200);
  });
});

describe('groupsOf', () => {
  it.each([
    ['[a b c]', ['a', 'b', 'c']],
    ['[a]', ['a']],
    ['[]', []],
    ['a', ['a']],
    [
      ['a', 'b'],
      ['a', 'b'],
    ],
    [['a', 3], ['a']],
    [undefined, []],
    [{ a: 1 }, []],
  ])('%j → %j', (claim, groups) => {
    expect(groupsOf(claim)).toEqual(groups);
  });
});

describe('ADMIN_GROUP config', () => {
  it('a name with a space is refused, naming the variable', () => {
    expect(() =>
      loadConfig({ AWS_REGION: 'us-east-1', TABLE_NAME: 't', X_APP_SECRET_ID: 'a', ADMIN_GROUP: 'x admins' }),
    ).toThrow(/ADMIN_GROUP/);
  });
});
