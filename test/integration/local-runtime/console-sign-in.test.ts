/**
 * The console's one-time sign-in links (local/console-sign-in.ts) behind the real local HTTP host:
 * a link works once and for 10 minutes, opens a 12-hour session the `auth` routes accept, is refused
 * afterwards with a reason and a way out, and is exchanged only by same-origin JSON.
 */
import http from 'node:http';
import { createConsoleSignIn, type ConsoleSignIn } from '../../../local/console-sign-in';
import { startHttpHost, type HttpHost } from '../../../local/http-host';

const ADMIN_TOKEN = 'admin-token-for-this-test-0123456789';

describe('console sign-in links on the local HTTP host', () => {
  let clock = Date.parse('2026-12-07T12:00:00Z');
  let signIn: ConsoleSignIn;
  let host: HttpHost;

  beforeAll(async () => {
    signIn = createConsoleSignIn({ now: () => clock });
    host = await startHttpHost({
      routes: [
        ...signIn.routes,
        {
          method: 'GET',
          path: '/channels',
          auth: true,
          handler: async () => ({ statusCode: 200, body: '[]' }),
        },
      ],
      adminToken: ADMIN_TOKEN,
      acceptsToken: signIn.isSession,
    });
  });
  afterAll(() => host?.stop());

  const codeOf = (url: string) => /#signin=([\w-]+)$/.exec(url)?.[1] as string;
  const exchange = async (code: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${host.url}/_local/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ code }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, string> };
  };
  const channels = async (token: string) =>
    (await fetch(`${host.url}/channels`, { headers: { authorization: `Bearer ${token}` } })).status;

  it('a link opens a session once; the second use is refused with a clear message', async () => {
    const link = signIn.newLink(host.url);
    expect(link.url).toMatch(new RegExp(`^${host.url}/#signin=[\\w-]{43}$`));
    expect(link.url).not.toContain(ADMIN_TOKEN);
    expect(await channels('not-a-session')).toBe(401);

    const first = await exchange(codeOf(link.url));
    expect(first.status).toBe(200);
    expect(first.body.token).not.toBe(ADMIN_TOKEN);
    expect(Date.parse(first.body.expiresAt) - clock).toBe(12 * 60 * 60_000);
    expect(await channels(first.body.token)).toBe(200);

    const second = await exchange(codeOf(link.url));
    expect(second.status).toBe(410);
    expect(second.body.reason).toBe('used');
    expect(second.body.detail).toContain('already used');
    expect(second.body.detail).toContain('npm run sign-in-link');
    expect(second.body.token).toBeUndefined();
  });

  it('a link expires after 10 minutes and a session after 12 hours', async () => {
    const late = signIn.newLink(host.url);
    const early = signIn.newLink(host.url);
    clock += 9 * 60_000;
    const session = await exchange(codeOf(early.url));
    expect(session.status).toBe(200);
    clock += 61_000;
    const expired = await exchange(codeOf(late.url));
    expect(expired).toMatchObject({ status: 410, body: { reason: 'expired' } });
    expect(expired.body.detail).toContain('expired');
    expect(await channels(session.body.token)).toBe(200);
    clock += 12 * 60 * 60_000;
    expect(await channels(session.body.token)).toBe(401);
  });

  it('refuses unknown codes, a body that is not JSON, a foreign Origin and a missing code', async () => {
    const unknown = await exchange('x'.repeat(43));
    expect(unknown).toMatchObject({ status: 401, body: { reason: 'unknown' } });
    const link = signIn.newLink(host.url);
    // What a page elsewhere can send without a preflight.
    const plain = await fetch(`${host.url}/_local/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ code: codeOf(link.url) }),
    });
    expect(plain.status).toBe(415);
    const foreign = await exchange(codeOf(link.url), { origin: 'https://attacker.example' });
    expect(foreign.status).toBe(403);
    const missing = await exchange('');
    expect(missing.status).toBe(400);
    // None of those used the link up.
    const own = await exchange(codeOf(link.url), { origin: host.url });
    expect(own.status).toBe(200);
  });

  it('mints a fresh link for the admin token only', async () => {
    const anonymous = await fetch(`${host.url}/_local/sign-in-links`, { method: 'POST' });
    expect(anonymous.status).toBe(401);
    const res = await fetch(`${host.url}/_local/sign-in-links`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(201);
    const { url } = (await res.json()) as { url: string };
    expect(url.startsWith(`${host.url}/#signin=`)).toBe(true);
    expect((await exchange(codeOf(url))).status).toBe(200);
  });

  it('the host refuses a foreign Host before any route', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        `${host.url}/_local/sign-in`,
        { method: 'POST', headers: { host: 'rebound.example', 'content-type': 'application/json' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end('{}');
    });
    expect(status).toBe(403);
  });
});
