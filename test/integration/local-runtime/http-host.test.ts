import { startHttpHost, type HttpEvent, type HttpHost, type HttpRoute } from '../../../local/http-host';

const adminToken = 'test-admin-token-0123456789abcdef';

describe('local HTTP host (API Gateway HTTP API, payload 2.0)', () => {
  let host: HttpHost;
  const seen: HttpEvent[] = [];
  const echo: HttpRoute['handler'] = async (event, context) => {
    seen.push(event);
    return {
      statusCode: 200,
      headers: { 'content-type': 'application/json', 'x-fn': context.functionName },
      cookies: ['a=1; Path=/', 'b=2; Path=/'],
      body: JSON.stringify(event),
    };
  };
  const routes: HttpRoute[] = [
    { method: 'GET', path: '/channels', auth: true, handler: echo },
    { method: 'POST', path: '/channels', auth: true, handler: echo },
    { method: 'GET', path: '/channels/{id}', auth: true, handler: echo },
    { method: 'GET', path: '/channels/mine', auth: true, handler: async () => 'static wins' },
    { method: 'ANY', path: '/files/{proxy+}', auth: false, handler: echo },
    {
      method: 'GET',
      path: '/oauth/callback',
      auth: false,
      handler: async () => ({ statusCode: 200, headers: { 'content-type': 'text/html' }, body: '<p>ok</p>' }),
    },
    { method: 'GET', path: '/plain', auth: false, handler: async () => 'just a string' },
    { method: 'GET', path: '/object', auth: false, handler: async () => ({ hello: 'world' }) },
    {
      method: 'GET',
      path: '/boom',
      auth: false,
      handler: async () => {
        throw new Error('kaboom with internal detail');
      },
    },
    {
      method: 'GET',
      path: '/binary',
      auth: false,
      handler: async () => ({
        statusCode: 200,
        headers: { 'content-type': 'image/png' },
        body: Buffer.from([0, 1, 2, 255]).toString('base64'),
        isBase64Encoded: true,
      }),
    },
    {
      method: 'GET',
      path: '$default',
      auth: false,
      handler: async () => ({ statusCode: 200, body: '"default"' }),
    },
  ];

  beforeAll(async () => {
    host = await startHttpHost({ routes, adminToken, port: 0, maxBodyBytes: 1024 });
  });
  afterAll(async () => {
    await host.stop();
  });
  beforeEach(() => {
    seen.length = 0;
  });

  const auth = { authorization: `Bearer ${adminToken}` };

  it('turns a request into a payload 2.0 event and the result back into HTTP', async () => {
    const res = await fetch(`${host.url}/channels/ch%201?b=2&a=1&a=3`, {
      headers: { ...auth, 'X-Custom': 'Yes', cookie: 'sid=abc; theme=dark', 'user-agent': 'jest-agent' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-fn')).toBe('api');
    expect(res.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    const event = (await res.json()) as HttpEvent;
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'GET /channels/{id}',
      rawPath: '/channels/ch%201',
      rawQueryString: 'b=2&a=1&a=3',
      cookies: ['sid=abc', 'theme=dark'],
      queryStringParameters: { a: '1,3', b: '2' },
      pathParameters: { id: 'ch 1' },
      isBase64Encoded: false,
      requestContext: {
        routeKey: 'GET /channels/{id}',
        stage: '$default',
        http: { method: 'GET', path: '/channels/ch%201', sourceIp: '127.0.0.1', userAgent: 'jest-agent' },
        authorizer: { jwt: { claims: { sub: 'local-admin', 'cognito:username': 'admin' } } },
      },
    });
    expect(event.headers['x-custom']).toBe('Yes');
    expect(event.headers).toMatchObject({
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-port': String(host.port),
    });
    expect(event.headers.cookie).toBeUndefined();
    expect(typeof event.requestContext.requestId).toBe('string');
    expect(event.requestContext.timeEpoch).toBeGreaterThan(0);
    expect(event.body).toBeUndefined();
  });

  it('passes text bodies as text and binary bodies base64-encoded', async () => {
    const text = await fetch(`${host.url}/channels`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: '{"listenDms":true}',
    });
    expect(((await text.json()) as HttpEvent).body).toBe('{"listenDms":true}');
    expect(seen[0].isBase64Encoded).toBe(false);

    const bytes = Buffer.from([0xde, 0xad, 0xbe, 0xef]);
    const bin = await fetch(`${host.url}/files/a/b.bin`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    const event = (await bin.json()) as HttpEvent;
    expect(event.routeKey).toBe('ANY /files/{proxy+}');
    expect(event.pathParameters).toEqual({ proxy: 'a/b.bin' });
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body ?? '', 'base64')).toEqual(bytes);
    expect(event.requestContext.authorizer).toBeUndefined();
  });

  it('decodes base64 results and maps strings and plain objects to 200 JSON', async () => {
    const bin = await fetch(`${host.url}/binary`);
    expect(bin.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await bin.arrayBuffer())).toEqual(Buffer.from([0, 1, 2, 255]));

    const plain = await fetch(`${host.url}/plain`);
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toBe('application/json');
    expect(await plain.text()).toBe('just a string');

    const obj = await fetch(`${host.url}/object`);
    expect(await obj.json()).toEqual({ hello: 'world' });
  });

  it('prefers static paths over parameters and falls back to the $default route', async () => {
    expect(await (await fetch(`${host.url}/channels/mine`, { headers: auth })).text()).toBe('static wins');
    const fallback = await fetch(`${host.url}/nothing/here`);
    expect(await fallback.json()).toBe('default');
  });

  it.each([
    ['no header', {}],
    ['a wrong token', { authorization: 'Bearer not-the-token' }],
    ['another scheme', { authorization: `Basic ${adminToken}` }],
  ])('refuses an auth route with %s without invoking the handler', async (_name, headers) => {
    const res = await fetch(`${host.url}/channels`, { method: 'POST', headers, body: '{}' });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    const body = (await res.json()) as { status: number; title: string };
    expect(body).toMatchObject({ status: 401, title: 'Unauthorized' });
    expect(seen).toHaveLength(0);
  });

  it('serves public routes without a token', async () => {
    const res = await fetch(`${host.url}/oauth/callback?state=s&code=c`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html');
  });

  it('answers 500 problem+json with a request id and no stack when a handler throws', async () => {
    const res = await fetch(`${host.url}/boom`);
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const text = await res.text();
    expect(text).not.toContain('kaboom');
    expect(text).not.toMatch(/at .*\.ts:\d+/);
    const body = JSON.parse(text) as { requestId: string };
    expect(body.requestId).toBe(res.headers.get('apigw-requestid'));
  });

  it('refuses a body over the limit with 413 before invoking the handler', async () => {
    const res = await fetch(`${host.url}/channels`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: 'x'.repeat(2048),
    });
    expect(res.status).toBe(413);
    expect(seen).toHaveLength(0);
  });

  it('answers 404 problem+json when no route matches and there is no $default', async () => {
    const bare = await startHttpHost({
      routes: routes.filter((r) => r.path !== '$default'),
      adminToken,
      port: 0,
    });
    try {
      const res = await fetch(`${bare.url}/nope`);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    } finally {
      await bare.stop();
    }
  });

  it('rejects a bad route table naming the route', () => {
    return expect(
      startHttpHost({ routes: [{ method: 'GET', path: 'channels', auth: true, handler: echo }], adminToken }),
    ).rejects.toThrow('routes[0].path');
  });
});
