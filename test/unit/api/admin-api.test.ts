import { createApp } from '../../../lambdas/api/app';
import { call, API_ORIGIN } from './events';
import { fakeApiDeps } from './deps';

const VALID = { listenMentions: true, listenDms: false, autoFollow: false };
const ID = 'ch_aaaaaaaaaaaaaaaaaaaa';

function setup(env: Record<string, string> = {}) {
  const f = fakeApiDeps(env);
  return { ...f, handler: createApp(f.deps) };
}

async function created(h: ReturnType<typeof setup>, body: object = VALID) {
  const res = await call(h.handler, { method: 'POST', path: '/channels', body });
  expect(res.status).toBe(201);
  return res.body;
}

describe('admin API: channels', () => {
  it('POST /channels creates a pending_auth channel with a random URL-safe id and no secrets', async () => {
    const h = setup();
    const res = await call(h.handler, {
      method: 'POST',
      path: '/channels',
      body: { ...VALID, name: 'Support', options: { backfillHours: 24 } },
    });
    expect(res.status).toBe(201);
    expect(res.body.id).toMatch(/^ch_[a-z2-7]{20}$/);
    expect(res.body).toMatchObject({
      status: 'pending_auth',
      name: 'Support',
      account: null,
      version: 1,
      warnings: [],
    });
    expect(res.body.options).toEqual({ backfillHours: 24, includeReposts: false, allowPosts: true });
    expect(res.headers.location).toBe(`/channels/${res.body.id}`);
    expect(h.channels.items.size).toBe(1);
  });

  it('autoFollow on at creation or by PATCH carries the developer-guidelines warning', async () => {
    const h = setup();
    const c = await created(h, { ...VALID, autoFollow: true });
    expect(c.warnings.map((w: any) => w.code)).toEqual(['auto_follow_discouraged']);
    const c2 = await created(h);
    const res = await call(h.handler, {
      method: 'PATCH',
      path: `/channels/${c2.id}`,
      body: { autoFollow: true },
    });
    expect(res.status).toBe(200);
    expect(res.body.warnings[0].message).toMatch(/Enterprise-only/);
  });

  it('GET /channels pages with limit and cursor', async () => {
    const h = setup();
    for (let i = 0; i < 3; i++) await created(h);
    const res = await call(h.handler, { method: 'GET', path: '/channels', query: 'limit=2' });
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(2);
  });

  it('PATCH pause/resume, name and options; If-Match enforces the version (412)', async () => {
    const h = setup();
    const c = await created(h);
    const paused = await call(h.handler, {
      method: 'PATCH',
      path: `/channels/${c.id}`,
      body: { paused: true, name: 'X' },
    });
    expect(paused.body).toMatchObject({ status: 'paused', name: 'X', version: 2 });
    const stale = await call(h.handler, {
      method: 'PATCH',
      path: `/channels/${c.id}`,
      headers: { 'if-match': '"1"' },
      body: { paused: false },
    });
    expect(stale.status).toBe(412);
    expect(stale.headers['content-type']).toBe('application/problem+json');
    const resumed = await call(h.handler, {
      method: 'PATCH',
      path: `/channels/${c.id}`,
      headers: { 'if-match': '"2"' },
      body: { paused: false, options: { allowPosts: false } },
    });
    expect(resumed.body).toMatchObject({
      status: 'pending_auth',
      version: 3,
      options: { allowPosts: false, backfillHours: 0 },
    });
  });

  it('switching DMs on for a connected channel without dm.read says re-authorization is needed', async () => {
    const h = setup();
    const c = await created(h);
    const rec = h.channels.items.get(c.id)!;
    h.channels.items.set(c.id, {
      ...rec,
      status: 'active',
      account: { id: '1', username: 'a', name: 'A', avatarUrl: null },
      scopes: ['tweet.read', 'users.read', 'offline.access'],
    });
    const res = await call(h.handler, {
      method: 'PATCH',
      path: `/channels/${c.id}`,
      body: { listenDms: true },
    });
    // and media: this channel's sign-in predates media.write (every sign-in requests it now)
    expect(res.body.needsReauthorization).toEqual(['dms', 'media']);
    expect(res.body.warnings.map((w: any) => w.code)).toContain('reauthorization_needed');
    const health = await call(h.handler, { method: 'GET', path: `/channels/${c.id}/health` });
    expect(health.body).toMatchObject({
      status: 'active',
      needsReauthorization: ['dms', 'media'],
      counters: { sent: 0 },
    });
  });

  it('DELETE revokes at X, deletes the secret and the record; a second DELETE is 404', async () => {
    const h = setup();
    const c = await created(h);
    const t = h.x.seed();
    await h.vault.put(c.id, {
      accessToken: t.accessToken,
      refreshToken: t.refreshToken,
      expiresAt: new Date().toISOString(),
      scopes: [],
      updatedAt: '',
    });
    const res = await call(h.handler, { method: 'DELETE', path: `/channels/${c.id}` });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: c.id, deleted: true, revokedAtX: 'revoked' });
    expect(h.x.revoked).toEqual([t.refreshToken, t.accessToken]);
    expect(h.vault.data.has(c.id)).toBe(false);
    expect((await call(h.handler, { method: 'DELETE', path: `/channels/${c.id}` })).status).toBe(404);
  });

  it('unknown path → 404, wrong method → 405 with Allow', async () => {
    const h = setup();
    expect((await call(h.handler, { method: 'GET', path: '/nope' })).status).toBe(404);
    // no route of the table is PUT: a route key that names the path under another method
    const res = await call(h.handler, {
      method: 'PUT',
      path: `/channels/${ID}`,
      routeKey: 'PUT /channels/{id}',
    });
    expect(res.status).toBe(405);
    expect(String(res.headers.allow)).toContain('PATCH');
  });

  it('GET / without a built console answers a clear problem (or the console when built)', async () => {
    const h = setup();
    const res = await call(h.handler, { method: 'GET', path: '/', sub: null });
    expect([200, 404]).toContain(res.status);
    if (res.status === 404) expect(res.body.code).toBe('console_not_built');
  });
});

describe('admin API: bad input is a 4xx problem naming the field, never a write', () => {
  const big = JSON.stringify({ ...VALID, name: 'x'.repeat(20_000) });
  it.each([
    ['missing auth', { method: 'GET', path: '/channels', sub: null }, 401, 'header.authorization'],
    [
      'missing auth on create',
      { method: 'POST', path: '/channels', body: VALID, sub: null },
      401,
      'header.authorization',
    ],
    [
      'wrong type',
      { method: 'POST', path: '/channels', body: { ...VALID, listenDms: 'yes' } },
      400,
      'body.listenDms',
    ],
    [
      'missing field',
      { method: 'POST', path: '/channels', body: { listenMentions: true, listenDms: true } },
      400,
      'body.autoFollow',
    ],
    [
      'unknown field',
      { method: 'POST', path: '/channels', body: { ...VALID, listenDM: true } },
      400,
      'body.listenDM',
    ],
    [
      '__proto__ key',
      {
        method: 'POST',
        path: '/channels',
        body: `{"listenMentions":true,"listenDms":true,"autoFollow":false,"__proto__":{"x":1}}`,
      },
      400,
      'body.__proto__',
    ],
    [
      'backfill too large',
      { method: 'POST', path: '/channels', body: { ...VALID, options: { backfillHours: 169 } } },
      400,
      'body.options.backfillHours',
    ],
    [
      'unknown option',
      { method: 'POST', path: '/channels', body: { ...VALID, options: { foo: 1 } } },
      400,
      'body.options.foo',
    ],
    ['empty name', { method: 'POST', path: '/channels', body: { ...VALID, name: '  ' } }, 400, 'body.name'],
    ['bad JSON', { method: 'POST', path: '/channels', body: '{"listenMentions":' }, 400, 'body'],
    ['JSON not an object', { method: 'POST', path: '/channels', body: '[1,2]' }, 400, 'body'],
    ['no body', { method: 'POST', path: '/channels' }, 400, 'body'],
    ['oversized body', { method: 'POST', path: '/channels', body: big }, 413, 'body'],
    [
      'wrong content type',
      { method: 'POST', path: '/channels', body: '{}', headers: { 'content-type': 'text/plain' } },
      415,
      'header.content-type',
    ],
    ['bad id', { method: 'GET', path: '/channels/not-an-id' }, 400, 'path.id'],
    ['bad id on health', { method: 'GET', path: '/channels/ch_UPPER/health' }, 400, 'path.id'],
    ['bad id on delete', { method: 'DELETE', path: '/channels/..%2F..' }, 400, 'path.id'],
    ['bad id on authorize', { method: 'POST', path: '/channels/x/authorize' }, 400, 'path.id'],
    ['limit too big', { method: 'GET', path: '/channels', query: 'limit=101' }, 400, 'query.limit'],
    ['limit not a number', { method: 'GET', path: '/channels', query: 'limit=ten' }, 400, 'query.limit'],
    ['unknown query', { method: 'GET', path: '/channels', query: 'sort=asc' }, 400, 'query.sort'],
    ['patch nothing', { method: 'PATCH', path: `/channels/${ID}`, body: {} }, 400, 'body'],
    [
      'patch wrong type',
      { method: 'PATCH', path: `/channels/${ID}`, body: { paused: 1 } },
      400,
      'body.paused',
    ],
    [
      'patch unknown field',
      { method: 'PATCH', path: `/channels/${ID}`, body: { status: 'active' } },
      400,
      'body.status',
    ],
    [
      'patch bad If-Match',
      { method: 'PATCH', path: `/channels/${ID}`, headers: { 'if-match': 'abc' }, body: { paused: true } },
      400,
      'header.if-match',
    ],
    [
      'authorize with a body field',
      { method: 'POST', path: `/channels/${ID}/authorize`, body: { scope: 'all' } },
      400,
      'body.scope',
    ],
  ] as const)('%s', async (_name, input, status, field) => {
    const h = setup();
    const res = await call(h.handler, input as any);
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.body).toMatchObject({
      status,
      type: expect.stringMatching(/^urn:x-channel:problem:/),
      title: expect.any(String),
      detail: expect.any(String),
    });
    if (status !== 401 || field) expect(res.body.errors.map((e: any) => e.field)).toContain(field);
    expect(h.channels.items.size).toBe(0);
  });

  it('an unknown channel is 404 on every channel route', async () => {
    const h = setup();
    for (const [method, path] of [
      ['GET', `/channels/${ID}`],
      ['GET', `/channels/${ID}/health`],
      ['DELETE', `/channels/${ID}`],
      ['POST', `/channels/${ID}/authorize`],
    ]) {
      const res = await call(h.handler, { method, path });
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('channel_not_found');
    }
  });

  it('an unexpected error is a 500 problem with a request id and no internals', async () => {
    const h = setup();
    h.deps.channels.get = async () => {
      throw new Error('boom: secret-internal-detail');
    };
    const res = await call(h.handler, { method: 'GET', path: `/channels/${ID}` });
    expect(res.status).toBe(500);
    expect(res.body.requestId).toEqual(expect.any(String));
    expect(res.text).not.toContain('secret-internal-detail');
  });
});

describe('admin API: channel names refuse spoofing characters (issue 19 item 7)', () => {
  // raw JSON text, so a lone surrogate reaches the API as X would never send it and a browser could
  const spoofs = [
    ['U+202E right-to-left override', '"Supp\\u202eroppus"'],
    ['U+200B zero-width space', '"Sup\\u200bport"'],
    ['U+0007 bell (control)', '"Support\\u0007"'],
    ['U+2066 left-to-right isolate', '"\\u2066Support"'],
    ['U+FEFF zero-width no-break space inside', '"Sup\\ufeffport"'],
    ['a lone surrogate', '"Sup\\ud800port"'],
    ['a tab inside', '"Sup\\tport"'],
  ] as const;

  it.each(spoofs)('create with %s → 400 naming body.name, nothing written', async (_what, json) => {
    const h = setup();
    const body = `{"listenMentions":true,"listenDms":false,"autoFollow":false,"name":${json}}`;
    const res = await call(h.handler, { method: 'POST', path: '/channels', body });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.body.errors.map((e: any) => e.field)).toEqual(['body.name']);
    expect(res.body.errors[0].message).toMatch(/control, format .* surrogate/);
    expect(h.channels.items.size).toBe(0);
  });

  it.each(spoofs)('patch with %s → 400 naming body.name, name unchanged', async (_what, json) => {
    const h = setup();
    const c = await created(h, { ...VALID, name: 'Support' });
    const res = await call(h.handler, {
      method: 'PATCH',
      path: `/channels/${c.id}`,
      body: `{"name":${json}}`,
    });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: any) => e.field)).toEqual(['body.name']);
    const after = await call(h.handler, { method: 'GET', path: `/channels/${c.id}` });
    expect(after.body).toMatchObject({ name: 'Support', version: 1 });
  });

  it('letters of any script, emoji (surrogate pairs) and inner spaces stay allowed', async () => {
    const h = setup();
    for (const name of ['Soporte España', 'サポート', 'دعم العملاء', 'Support 🚀', 'Ünïcödé – “quotes”']) {
      const res = await call(h.handler, { method: 'POST', path: '/channels', body: { ...VALID, name } });
      expect(res.status).toBe(201);
      expect(res.body.name).toBe(name);
    }
  });
});

describe('admin API: Sign in with X (fakes)', () => {
  async function start(h: ReturnType<typeof setup>, sub = 'admin-1') {
    const c = await created(h);
    const res = await call(h.handler, { method: 'POST', path: `/channels/${c.id}/authorize`, sub });
    expect(res.status).toBe(200);
    const url = new URL(res.body.authorizeUrl);
    const state = url.searchParams.get('state')!;
    const cookie = res.cookies[0].split(';')[0];
    return { c, url, state, cookie, res };
  }

  it('authorize answers X’s URL with scopesFor(switches), S256 PKCE, a 256-bit state and an HttpOnly binding cookie', async () => {
    const h = setup();
    const { url, state, res, c } = await start(h);
    expect(url.searchParams.get('scope')).toBe(
      'tweet.read users.read tweet.write dm.write media.write offline.access',
    );
    expect(state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('redirect_uri')).toBe(`${API_ORIGIN}/oauth/callback`);
    expect(res.cookies[0]).toMatch(/HttpOnly; SameSite=Lax; Secure$/);
    const rec = h.states.data.get(state)!;
    expect(rec).toMatchObject({ channelId: c.id, adminSub: 'admin-1' });
    expect(rec.expiresAt - Math.floor(h.clock.now().getTime() / 1000)).toBe(600);
  });

  async function callback(h: ReturnType<typeof setup>, query: string, cookies?: string[]) {
    return call(h.handler, { method: 'GET', path: '/oauth/callback', query, sub: null, cookies });
  }

  it('a good callback connects the account and posts only to the console origin', async () => {
    const h = setup({ CONSOLE_ORIGIN: 'https://console.example.test' });
    const { state, cookie, c } = await start(h);
    h.x.grantCode('code-1');
    const res = await callback(h, `state=${state}&code=code-1`, [cookie]);
    expect(res.status).toBe(200);
    expect(res.text).toContain('Connected @acme. You can close this tab.');
    expect(res.text).toContain('"https://console.example.test"');
    expect(res.text).not.toMatch(/postMessage\([^)]*['"]\*['"]/);
    const csp = String(res.headers['content-security-policy']);
    const nonce = /'nonce-([^']+)'/.exec(csp)![1];
    expect(res.text).toContain(`<script nonce="${nonce}">`);
    expect(csp).toContain("default-src 'none'");
    expect(h.channels.items.get(c.id)).toMatchObject({
      status: 'active',
      account: { id: '42', username: 'acme' },
    });
    expect(h.vault.data.has(c.id)).toBe(true);
  });

  it.each([
    ['missing state', (_s: string) => 'code=code-1', 'missing_state'],
    ['both code and error', (s: string) => `state=${s}&code=code-1&error=access_denied`, 'invalid_request'],
    ['repeated state', (s: string) => `state=${s}&state=${s}&code=code-1`, 'invalid_request'],
    ['unknown state', (_s: string) => `state=${'A'.repeat(43)}&code=code-1`, 'unknown_state'],
    ['cancelled at X', (s: string) => `state=${s}&error=access_denied`, 'access_denied'],
  ])('%s → 400 page, nothing written', async (_name, query, error) => {
    const h = setup();
    const { state, cookie, c } = await start(h);
    h.x.grantCode('code-1');
    const res = await callback(h, query(state), [cookie]);
    expect(res.status).toBe(400);
    expect(res.text).toContain(`"error":"${error}"`);
    expect(h.channels.items.get(c.id)!.status).toBe('pending_auth');
    expect(h.vault.data.size).toBe(0);
  });

  it('another browser (no or other binding cookie) is refused', async () => {
    const h = setup();
    const a = await start(h, 'admin-1');
    const b = await start(h, 'admin-2');
    h.x.grantCode('code-1');
    const res = await callback(h, `state=${b.state}&code=code-1`, [a.cookie]);
    expect(res.status).toBe(400);
    expect(res.text).toContain('"error":"browser_mismatch"');
    expect(h.channels.items.get(b.c.id)!.status).toBe('pending_auth');
  });

  it('a refused browser does not consume the state: the right browser still connects', async () => {
    const h = setup();
    const a = await start(h, 'admin-1');
    h.x.grantCode('code-1');
    const none = await callback(h, `state=${a.state}&code=code-1`, []);
    expect(none.text).toContain('"error":"browser_mismatch"');
    const wrong = await callback(h, `state=${a.state}&code=code-1`, [`${a.cookie.split('=')[0]}=forged`]);
    expect(wrong.text).toContain('"error":"browser_mismatch"');
    expect(h.states.data.has(a.state)).toBe(true);
    const mine = await callback(h, `state=${a.state}&code=code-1`, [a.cookie]);
    expect(mine.status).toBe(200);
    expect(h.states.data.has(a.state)).toBe(false);
    expect(h.channels.items.get(a.c.id)!.status).toBe('active');
  });
});
