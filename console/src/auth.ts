/**
 * Console sign-in.
 * - `local` (npm start): `adminLoginUrl` is `<adminUrl>/#signin=<code>`, a one-time link (never the
 *   admin token). The code is taken from the fragment (which browsers never send to a server) and
 *   removed from the address bar and history with `history.replaceState` at once, then exchanged at
 *   `POST /_local/sign-in` for a session token (12 h), kept in sessionStorage (gone with the tab).
 * - `cognito` (AWS): the Cognito hosted UI with authorization code + PKCE (S256). The verifier and
 *   state live in sessionStorage for the round trip; the access token is kept like the local one.
 */

/** Sign-in settings served at `assets/config.json` (see serve.ts). */
export interface AuthConfig {
  authMode: 'local' | 'cognito';
  cognito?: { domain: string; clientId: string };
}

const TOKEN_KEY = 'x-channel.token';
const PKCE_KEY = 'x-channel.pkce';

interface StoredToken {
  token: string;
  /** Epoch ms when the session ends. */
  expiresAt?: number;
}

/** The bearer token for the admin API, or null when signed out (or expired). */
export function currentToken(now = Date.now()): string | null {
  const raw = sessionStorage.getItem(TOKEN_KEY);
  if (!raw) return null;
  try {
    const t = JSON.parse(raw) as StoredToken;
    if (typeof t.token !== 'string' || (t.expiresAt !== undefined && t.expiresAt <= now)) return null;
    return t.token;
  } catch {
    return null;
  }
}

function storeToken(t: StoredToken): void {
  sessionStorage.setItem(TOKEN_KEY, JSON.stringify(t));
}

/** Forgets the token (sign-out, or a 401 from the API). */
export function clearToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

/**
 * Whether the address may sign the console in (`#signin=<code>`, the one-time link of `npm start`):
 * only in local mode. With Cognito a link someone sends must never plant a session.
 */
export const acceptsSignInLink = (cfg: AuthConfig): boolean => cfg.authMode === 'local';

/**
 * The sign-in service answered `?error=` instead of a code. Only the error code is kept, and only when
 * it looks like one (`^[a-z_]{1,40}$`); `error_description` is never read: anyone can write it.
 */
export class SignInAnswerError extends Error {
  readonly code: string | null;
  constructor(error: string | null) {
    const code = error && /^[a-z_]{1,40}$/.test(error) ? error : null;
    super(`the sign-in service answered with an error${code ? ` (${code})` : ''}`);
    this.name = 'SignInAnswerError';
    this.code = code;
  }
}

/** Why a local sign-in link did not sign in (`reason` as the local host gives it). */
export class SignInLinkError extends Error {
  constructor(
    readonly reason: 'used' | 'expired' | 'unknown' | 'failed',
    message: string,
  ) {
    super(message);
    this.name = 'SignInLinkError';
  }
}

/**
 * Takes `#signin=<code>` from the address (stripping it from the URL and history first), exchanges
 * it for a session token and stores that. False when the address holds no code; throws
 * {@link SignInLinkError} when the code is refused.
 */
export async function redeemSignInLink(): Promise<boolean> {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  const code = params.get('signin');
  if (!code) return false;
  history.replaceState(null, '', location.pathname + location.search);
  let res: Response;
  try {
    res = await fetch(new URL('_local/sign-in', document.baseURI), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code }),
      cache: 'no-store',
    });
  } catch {
    throw new SignInLinkError('failed', 'the local host did not answer');
  }
  const body = (await res.json().catch(() => ({}))) as {
    token?: string;
    expiresAt?: string;
    reason?: string;
    detail?: string;
  };
  if (!res.ok || typeof body.token !== 'string') {
    const reason = body.reason === 'used' || body.reason === 'expired' || body.reason === 'unknown';
    throw new SignInLinkError(
      reason ? (body.reason as 'used' | 'expired' | 'unknown') : 'failed',
      body.detail ?? `HTTP ${res.status}`,
    );
  }
  const expiresAt = Date.parse(body.expiresAt ?? '');
  storeToken({ token: body.token, ...(Number.isFinite(expiresAt) ? { expiresAt } : {}) });
  return true;
}

const base64Url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

const randomString = (n = 32) => base64Url(crypto.getRandomValues(new Uint8Array(n)));

const redirectUri = () => location.origin + location.pathname;

/** Sends the browser to the Cognito hosted UI (authorization code + PKCE S256). */
export async function startCognitoSignIn(cfg: NonNullable<AuthConfig['cognito']>): Promise<void> {
  const verifier = randomString(48);
  const state = randomString(16);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state }));
  const url = new URL('/oauth2/authorize', cfg.domain);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: cfg.clientId,
    redirect_uri: redirectUri(),
    scope: 'openid email',
    state,
    code_challenge: base64Url(digest),
    code_challenge_method: 'S256',
  }).toString();
  location.assign(url.toString());
}

/**
 * Finishes a Cognito sign-in when the page is the redirect target (`?code=&state=`). Returns true when
 * a token was stored; throws with a plain reason when the answer is wrong (state mismatch, refused code).
 */
export async function completeCognitoSignIn(cfg: NonNullable<AuthConfig['cognito']>): Promise<boolean> {
  const params = new URLSearchParams(location.search);
  const code = params.get('code');
  const state = params.get('state');
  if (!code && !params.get('error')) return false;
  const saved = JSON.parse(sessionStorage.getItem(PKCE_KEY) ?? '{}') as { verifier?: string; state?: string };
  sessionStorage.removeItem(PKCE_KEY);
  // The code is single-use: drop it from the address whatever happens next.
  history.replaceState(null, '', location.pathname);
  if (!code) throw new SignInAnswerError(params.get('error'));
  if (!saved.verifier || state !== saved.state) throw new Error('the sign-in answer does not match this tab');
  const res = await fetch(new URL('/oauth2/token', cfg.domain), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: cfg.clientId,
      code,
      redirect_uri: redirectUri(),
      code_verifier: saved.verifier,
    }),
  });
  if (!res.ok) throw new Error(`the sign-in service refused the code (HTTP ${res.status})`);
  const body = (await res.json()) as { access_token?: string; expires_in?: number };
  if (!body.access_token) throw new Error('the sign-in service answered without a token');
  storeToken({ token: body.access_token, expiresAt: Date.now() + (body.expires_in ?? 3600) * 1000 });
  return true;
}

/** The Cognito sign-out URL (ends the hosted-UI session too), or null in local mode. */
export function cognitoLogoutUrl(cfg: AuthConfig): string | null {
  if (cfg.authMode !== 'cognito' || !cfg.cognito) return null;
  const url = new URL('/logout', cfg.cognito.domain);
  url.search = new URLSearchParams({ client_id: cfg.cognito.clientId, logout_uri: redirectUri() }).toString();
  return url.toString();
}
