/**
 * OAuth 2.0 authorization code + PKCE as X runs it (X-API.md §1): the authorize page, the token
 * endpoint (code exchange, rotating single-use refresh tokens), revoke, and bearer-token checks.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { escapeHtml, html, json, type SimResponse } from './http-util';
import { SCOPE_WORDS } from './limits';
import type { SimStore, SimApp, SimGrant } from './store';

/** One refresh-token presentation, for reliability tests (the token itself is never kept here). */
export interface TokenLogEntry {
  at: number;
  /** First 16 hex chars of sha256(token): enough to tell tokens apart, useless to an attacker. */
  fingerprint: string;
  clientId: string | null;
  /** The user whose grant the presented token belongs to (null for an unknown token). */
  userId: string | null;
  alreadySpent: boolean;
  accepted: boolean;
}

/** Options fixed at start. */
export interface OAuthOptions {
  accessTokenTtlSeconds: number;
  invalidateGrantOnRefreshReuse: boolean;
}

/** X's authorization codes live 30 s. */
export const CODE_TTL_MS = 30_000;
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/** sha256 fingerprint of a token, as recorded in the token log. */
export function fingerprintToken(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 16);
}

const newSecret = () => randomBytes(32).toString('base64url');

const oauthError = (status: number, error: string, description: string) =>
  json(status, { error, error_description: description });
const INVALID_TOKEN = () => oauthError(400, 'invalid_request', 'Value passed for the token was invalid.');
const INVALID_CODE = () =>
  oauthError(400, 'invalid_request', 'Value passed for the authorization code was invalid.');
const BAD_CLIENT = () => oauthError(401, 'unauthorized_client', 'Missing valid authorization header');

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The OAuth side of the simulator. */
export class SimOAuth {
  readonly tokenLog: TokenLogEntry[] = [];

  constructor(
    private readonly store: SimStore,
    private readonly now: () => number,
    private readonly options: OAuthOptions,
  ) {}

  app(clientId: string): SimApp | undefined {
    return this.store.data.apps.find((a) => a.clientId === clientId);
  }

  /** The user and grant behind a bearer token, or null when it is unknown, expired or revoked. */
  authenticate(header: string | undefined): { grant: SimGrant } | null {
    if (!header || !header.startsWith('Bearer ')) return null;
    const token = this.store.data.accessTokens[header.slice(7)];
    if (!token || token.revoked || token.expiresAt <= this.now()) return null;
    const grant = this.grant(token.grantId);
    if (!grant || grant.revoked) return null;
    return { grant };
  }

  private grant(id: string): SimGrant | undefined {
    return this.store.data.grants.find((g) => g.id === id);
  }

  /** Called with the apps a user just took access from (XAA `oauth.revoke` hooks in here). */
  onUserRevoke: (userId: string, clientIds: string[]) => void = () => {};

  /** Revokes every grant of a user (x.com/settings/connected_apps): all their tokens die. */
  revokeUserTokens(userId: string): void {
    const clientIds = new Set<string>();
    for (const grant of this.store.data.grants) {
      if (grant.userId !== userId || grant.revoked) continue;
      grant.revoked = true;
      clientIds.add(grant.clientId);
    }
    this.store.onChange();
    if (clientIds.size) this.onUserRevoke(userId, [...clientIds]);
  }

  /** Whether `userId` has a live authorization of the app `clientId` (private XAA events need one). */
  hasLiveGrant(userId: string, clientId: string): boolean {
    return this.store.data.grants.some((g) => g.userId === userId && g.clientId === clientId && !g.revoked);
  }

  /** The app behind an app-only bearer token, or null (unknown token, or a user token). */
  authenticateApp(header: string | undefined): SimApp | null {
    if (!header || !header.startsWith('Bearer ')) return null;
    const clientId = this.store.data.appTokens[header.slice(7)];
    return clientId === undefined ? null : (this.app(clientId) ?? null);
  }

  /**
   * `POST /oauth2/token` with `grant_type=client_credentials` and Basic base64(API key:API key secret):
   * the app-only bearer token. X hands out the same token until it is invalidated, so one per app.
   */
  appToken(authorization: string | undefined, body: Map<string, string> | null): SimResponse {
    // X's v1.1-era answer for bad consumer credentials (code 99).
    const refused = () =>
      json(403, {
        errors: [
          { code: 99, message: 'Unable to verify your credentials', label: 'authenticity_token_error' },
        ],
      });
    if (!body || body.get('grant_type') !== 'client_credentials') {
      return json(400, {
        errors: [
          {
            code: 170,
            message: 'Missing required parameter: grant_type',
            label: 'forbidden_missing_parameter',
          },
        ],
      });
    }
    const basic = /^Basic (.+)$/.exec(authorization ?? '');
    if (!basic) return refused();
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const key = decodeURIComponent(decoded.slice(0, colon));
    const secret = decodeURIComponent(decoded.slice(colon + 1));
    const app = this.store.data.apps.find((a) => a.apiKey && a.apiKey === key);
    if (colon < 0 || !app?.apiKeySecret || !safeEqual(secret, app.apiKeySecret)) return refused();
    let token = Object.keys(this.store.data.appTokens).find(
      (t) => this.store.data.appTokens[t] === app.clientId,
    );
    if (!token) {
      // X's app-only tokens start with a run of "A"s and are URL-encoded base64.
      token = `AAAAAAAAAAAAAAAAAAAAA${encodeURIComponent(randomBytes(60).toString('base64'))}`;
      this.store.data.appTokens[token] = app.clientId;
      this.store.onChange();
    }
    return json(200, { token_type: 'bearer', access_token: token });
  }

  /** Users with at least one live grant (the crowd's "signed-in" accounts). */
  signedInUserIds(): string[] {
    return [...new Set(this.store.data.grants.filter((g) => !g.revoked).map((g) => g.userId))];
  }

  /** Validates the authorize query; a string is the reason to show on a 400 page. */
  private checkAuthorize(q: URLSearchParams): { app: SimApp; scopes: string[] } | string {
    if (q.get('response_type') !== 'code') return 'response_type must be "code".';
    const clientId = q.get('client_id') ?? '';
    const app = this.app(clientId);
    if (!app) return 'Unknown client_id: no app is registered with this id.';
    const redirect = q.get('redirect_uri') ?? '';
    if (!app.redirectUris.includes(redirect)) {
      return 'redirect_uri is not registered for this app (it must match a callback URL exactly).';
    }
    const scopes = (q.get('scope') ?? '').split(/[ +]/).filter(Boolean);
    if (!scopes.length) return 'scope is required.';
    const unknown = scopes.find((s) => !(s in SCOPE_WORDS));
    if (unknown) return `scope "${unknown}" is not a known X scope.`;
    const state = q.get('state') ?? '';
    if (!state || state.length > 500) return 'state is required and must be at most 500 characters.';
    // twitter-api-v2 sends "s256" (lowercase): X accepts it, so compare case-insensitively.
    if ((q.get('code_challenge_method') ?? '').toUpperCase() !== 'S256') {
      return 'code_challenge_method must be S256.';
    }
    if (!CHALLENGE.test(q.get('code_challenge') ?? '')) {
      return 'code_challenge must be 43 base64url characters (the S256 hash of the code verifier).';
    }
    return { app, scopes };
  }

  /** GET /i/oauth2/authorize */
  authorizePage(q: URLSearchParams): SimResponse {
    const checked = this.checkAuthorize(q);
    if (typeof checked === 'string') return errorPage(checked);
    return html(
      200,
      renderAuthorize(
        checked.app,
        checked.scopes,
        q,
        this.store.data.users.filter((u) => !u.suspended),
      ),
    );
  }

  /** POST /i/oauth2/authorize: the user's decision. Query and form fields are merged (form wins). */
  authorizeDecision(q: URLSearchParams, form: Map<string, string>): SimResponse {
    const merged = new URLSearchParams(q);
    for (const [k, v] of form) merged.set(k, v);
    const checked = this.checkAuthorize(merged);
    if (typeof checked === 'string') return errorPage(checked);
    const redirect = new URL(merged.get('redirect_uri') as string);
    const state = merged.get('state') as string;
    const decision = merged.get('decision');
    if (decision === 'deny') {
      redirect.searchParams.set('error', 'access_denied');
      redirect.searchParams.set('state', state);
      return { status: 302, body: '', headers: { location: redirect.toString() } };
    }
    if (decision !== 'allow') return errorPage('decision must be "allow" or "deny".');
    let user = this.store.userByName(merged.get('username') ?? '');
    const newName = (merged.get('new_username') ?? '').trim();
    if (!user && newName) {
      try {
        user = this.store.createUser({ username: newName, name: merged.get('new_name')?.trim() || newName });
      } catch (error) {
        return errorPage(error instanceof Error ? error.message : 'could not create the account');
      }
    }
    if (!user) return errorPage('Choose an account to sign in with (username).');
    if (user.suspended) return errorPage(`@${user.username} is suspended.`);
    const code = newSecret();
    this.store.data.codes[code] = {
      clientId: checked.app.clientId,
      userId: user.id,
      redirectUri: merged.get('redirect_uri') as string,
      scopes: checked.scopes,
      codeChallenge: merged.get('code_challenge') as string,
      expiresAt: this.now() + CODE_TTL_MS,
      used: false,
    };
    this.store.onChange();
    redirect.searchParams.set('state', state);
    redirect.searchParams.set('code', code);
    return { status: 302, body: '', headers: { location: redirect.toString() } };
  }

  /** Client authentication on token/revoke: HTTP Basic, or client_id (+ client_secret) in the body. */
  private client(authorization: string | undefined, body: Map<string, string>): SimApp | SimResponse {
    if (authorization?.startsWith('Basic ')) {
      const decoded = Buffer.from(authorization.slice(6), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const app = this.app(decodeURIComponent(decoded.slice(0, colon)));
      const secret = decodeURIComponent(decoded.slice(colon + 1));
      if (colon < 0 || !app || app.clientSecret === null || !safeEqual(app.clientSecret, secret))
        return BAD_CLIENT();
      return app;
    }
    const clientId = body.get('client_id');
    if (!clientId) return oauthError(400, 'invalid_request', 'Missing required parameter [client_id].');
    const app = this.app(clientId);
    if (!app) return BAD_CLIENT();
    if (app.clientSecret !== null && !safeEqual(app.clientSecret, body.get('client_secret') ?? '')) {
      return BAD_CLIENT();
    }
    return app;
  }

  private issue(grant: SimGrant) {
    const accessToken = newSecret();
    this.store.data.accessTokens[accessToken] = {
      grantId: grant.id,
      expiresAt: this.now() + this.options.accessTokenTtlSeconds * 1000,
      revoked: false,
    };
    const out: Record<string, unknown> = {
      token_type: 'bearer',
      expires_in: this.options.accessTokenTtlSeconds,
      access_token: accessToken,
      scope: grant.scopes.join(' '),
    };
    if (grant.scopes.includes('offline.access')) {
      const refreshToken = newSecret();
      this.store.data.refreshTokens[refreshToken] = { grantId: grant.id, spent: false };
      out.refresh_token = refreshToken;
    }
    this.store.onChange();
    return json(200, out);
  }

  /** POST /2/oauth2/token */
  token(authorization: string | undefined, body: Map<string, string> | null): SimResponse {
    if (!body) return oauthError(400, 'invalid_request', 'The request body could not be parsed.');
    const app = this.client(authorization, body);
    if (!('clientId' in app)) return app;
    const grantType = body.get('grant_type');
    if (grantType === 'authorization_code') {
      const code = body.get('code') ?? '';
      const pending = this.store.data.codes[code];
      if (!pending || pending.used || pending.expiresAt <= this.now() || pending.clientId !== app.clientId) {
        return INVALID_CODE();
      }
      if (pending.redirectUri !== body.get('redirect_uri')) return INVALID_CODE();
      const verifier = body.get('code_verifier') ?? '';
      const hashed = createHash('sha256').update(verifier).digest('base64url');
      if (!safeEqual(hashed, pending.codeChallenge)) return INVALID_CODE();
      pending.used = true;
      const grant: SimGrant = {
        id: this.store.nextId(),
        clientId: app.clientId,
        userId: pending.userId,
        scopes: pending.scopes,
        revoked: false,
        createdAt: this.now(),
      };
      this.store.data.grants.push(grant);
      // A used code is of no further interest; drop it so the state file stays small.
      delete this.store.data.codes[code];
      return this.issue(grant);
    }
    if (grantType === 'refresh_token') {
      const presented = body.get('refresh_token') ?? '';
      const record = this.store.data.refreshTokens[presented];
      const grant = record ? this.grant(record.grantId) : undefined;
      const entry: TokenLogEntry = {
        at: this.now(),
        fingerprint: fingerprintToken(presented),
        clientId: app.clientId,
        userId: grant?.userId ?? null,
        alreadySpent: Boolean(record?.spent),
        accepted: false,
      };
      this.tokenLog.push(entry);
      if (!record || !grant || grant.clientId !== app.clientId) return INVALID_TOKEN();
      if (record.spent) {
        if (this.options.invalidateGrantOnRefreshReuse) {
          grant.revoked = true;
          this.store.onChange();
        }
        return INVALID_TOKEN();
      }
      if (grant.revoked) return INVALID_TOKEN();
      record.spent = true;
      entry.accepted = true;
      return this.issue(grant);
    }
    return oauthError(400, 'invalid_request', 'Value passed for the grant type was invalid.');
  }

  /** POST /2/oauth2/revoke: an access token dies alone; a refresh token takes its grant with it. */
  revoke(authorization: string | undefined, body: Map<string, string> | null): SimResponse {
    if (!body) return oauthError(400, 'invalid_request', 'The request body could not be parsed.');
    const app = this.client(authorization, body);
    if (!('clientId' in app)) return app;
    const token = body.get('token');
    if (!token) return oauthError(400, 'invalid_request', 'Missing required parameter [token].');
    const access = this.store.data.accessTokens[token];
    if (access) access.revoked = true;
    const refresh = this.store.data.refreshTokens[token];
    if (refresh) {
      const grant = this.grant(refresh.grantId);
      if (grant && grant.clientId === app.clientId) grant.revoked = true;
    }
    this.store.onChange();
    return json(200, { revoked: true });
  }
}

const PAGE_STYLE = `body{font-family:system-ui,sans-serif;background:#000;color:#e7e9ea;margin:0}
main{max-width:34rem;margin:2rem auto;padding:1.5rem;background:#16181c;border-radius:16px}
h1{font-size:1.4rem}ul{padding-left:1.2rem}fieldset{border:1px solid #333;border-radius:8px;margin:1rem 0}
label{display:block;padding:.3rem 0}button{font-size:1rem;padding:.6rem 1.2rem;border-radius:999px;border:0;margin-right:.5rem}
.allow{background:#1d9bf0;color:#fff}.deny{background:#eff3f4;color:#0f1419}.sim{color:#8b98a5;font-size:.85rem}
input[type=text]{font-size:1rem;padding:.3rem}`;

function page(title: string, content: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title><style>${PAGE_STYLE}</style></head><body><main>${content}<p class="sim">Simulated X: no password is asked for or stored.</p></main></body></html>`;
}

function errorPage(reason: string): SimResponse {
  const res = html(
    400,
    page(
      'Something went wrong',
      `<h1>Something went wrong</h1><p role="alert">You weren't able to give access to the App. ${escapeHtml(reason)}</p>`,
    ),
  );
  return res;
}

function renderAuthorize(
  app: SimApp,
  scopes: string[],
  q: URLSearchParams,
  users: { username: string; name: string }[],
): string {
  const action = `/i/oauth2/authorize?${q.toString()}`;
  const hidden = [...q]
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('');
  const scopeList = scopes.map((s) => `<li>${escapeHtml(SCOPE_WORDS[s] ?? s)}</li>`).join('');
  const accounts = users
    .map(
      (u, i) =>
        `<label><input type="radio" name="username" value="${escapeHtml(u.username)}"${i === 0 ? ' checked' : ''}> ${escapeHtml(u.name)} <span>@${escapeHtml(u.username)}</span></label>`,
    )
    .join('');
  const create = `<label for="new_username">${users.length ? 'Or create a new simulated account' : 'No simulated account exists yet: create one'} (username)</label><input type="text" id="new_username" name="new_username" pattern="[A-Za-z0-9_]{1,15}" autocomplete="off"${users.length ? '' : ' required'}>`;
  return page(
    `Authorize ${app.name} to access your account`,
    `<h1>${escapeHtml(app.name)} wants to access your X account</h1>
<h2>This app will be able to:</h2><ul>${scopeList}</ul>
<form method="post" action="${escapeHtml(action)}">${hidden}
<fieldset><legend>Sign in as</legend>${accounts}${create}</fieldset>
<button type="submit" class="allow" name="decision" value="allow">Authorize app</button>
<button type="submit" class="deny" name="decision" value="deny" formnovalidate>Cancel</button>
</form>`,
  );
}
