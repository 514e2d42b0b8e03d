/**
 * The console's local sign-in (`npm start` only; in AWS the console signs in with Cognito). Instead
 * of the admin token, `npm start` prints a one-time link, `adminLoginUrl` =
 * `<apiUrl>/#signin=<code>`:
 *
 * - the code is random (256 bits), works once and for 10 minutes, and lives only in this process's
 *   memory (hashed): a restart ends every link, and prints a fresh one;
 * - the console takes it from the fragment (browsers never send a fragment to a server), removes it
 *   from the address bar and history, and exchanges it with `POST /_local/sign-in` `{ "code" }`
 *   (same-origin JSON only) for a session: `{ token, expiresAt }`, a bearer token for the admin API
 *   that is not the admin token and lasts 12 hours (also in memory only);
 * - a used, expired or unknown code gets 410/401 with `reason` (`used` | `expired` | `unknown`) and
 *   a sentence saying how to get a new link;
 * - `POST /_local/sign-in-links` with `Authorization: Bearer <adminToken>` mints another link
 *   (`npm run sign-in-link` does that with local.json).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { HttpEvent, HttpRoute } from './http-host';
import { jsonApiRefusal } from './loopback';

export const SIGN_IN_LINK_TTL_MS = 10 * 60_000;
export const SESSION_TTL_MS = 12 * 60 * 60_000;
/** Where the console exchanges a link's code for a session. */
export const SIGN_IN_PATH = '/_local/sign-in';
/** Where a holder of the admin token gets a fresh link. */
export const SIGN_IN_LINKS_PATH = '/_local/sign-in-links';

export interface ConsoleSignInOptions {
  /** @default 10 minutes */
  linkTtlMs?: number;
  /** @default 12 hours */
  sessionTtlMs?: number;
  now?: () => number;
}

export interface ConsoleSignIn {
  /** A fresh one-time link on `apiUrl`'s console. */
  newLink(apiUrl: string): { url: string; expiresAt: string };
  /** Whether `token` is a live console session (for the host's `auth` routes). */
  isSession(token: string): boolean;
  /** The two `/_local/*` routes, to put beside the API's. */
  routes: HttpRoute[];
}

const hash = (s: string) => createHash('sha256').update(s).digest('hex');

function reply(statusCode: number, body: unknown) {
  return {
    statusCode,
    headers: {
      'content-type': statusCode < 300 ? 'application/json' : 'application/problem+json',
      'cache-control': 'no-store',
    },
    body: JSON.stringify(body),
  };
}

const problem = (status: number, title: string, detail: string, extra: Record<string, unknown> = {}) =>
  reply(status, { type: 'about:blank', title, status, detail, ...extra });

const NEW_LINK_HINT = 'Run "npm run sign-in-link" for a new link, or restart "npm start", which prints one.';

/**
 * Creates the in-memory sign-in state of one local stack.
 *
 * @example
 * const signIn = createConsoleSignIn();
 * const host = await startHttpHost({ routes: [...signIn.routes, ...routes], adminToken, acceptsToken: signIn.isSession });
 * console.log(signIn.newLink(host.url).url);
 */
export function createConsoleSignIn(options: ConsoleSignInOptions = {}): ConsoleSignIn {
  const now = options.now ?? Date.now;
  const linkTtlMs = options.linkTtlMs ?? SIGN_IN_LINK_TTL_MS;
  const sessionTtlMs = options.sessionTtlMs ?? SESSION_TTL_MS;
  /** By code hash: when it expires and whether it was used (kept until expiry to say "used"). */
  const links = new Map<string, { expiresAt: number; used: boolean }>();
  /** By token hash: when the session ends. */
  const sessions = new Map<string, number>();

  const prune = () => {
    const t = now();
    for (const [k, v] of links) if (v.expiresAt <= t) links.delete(k);
    for (const [k, until] of sessions) if (until <= t) sessions.delete(k);
  };

  const newLink = (apiUrl: string) => {
    prune();
    const code = randomBytes(32).toString('base64url');
    const expiresAt = now() + linkTtlMs;
    links.set(hash(code), { expiresAt, used: false });
    return {
      url: `${apiUrl.replace(/\/+$/, '')}/#signin=${code}`,
      expiresAt: new Date(expiresAt).toISOString(),
    };
  };

  const exchange = async (event: HttpEvent) => {
    const body = event.body
      ? event.isBase64Encoded
        ? Buffer.from(event.body, 'base64').toString('utf8')
        : event.body
      : '';
    const refusal = jsonApiRefusal({
      method: event.requestContext.http.method,
      headers: { ...event.headers, 'content-length': String(Buffer.byteLength(body)) },
    });
    if (refusal) return problem(refusal.status, refusal.title, refusal.detail);
    let code: unknown;
    try {
      code = (JSON.parse(body) as { code?: unknown })?.code;
    } catch {
      code = undefined;
    }
    if (typeof code !== 'string' || !code) {
      return problem(
        400,
        'Bad Request',
        'the body must be JSON { "code": "<the code of the sign-in link>" }',
      );
    }
    const key = hash(code);
    const link = links.get(key);
    const t = now();
    if (!link) {
      return problem(
        401,
        'Unauthorized',
        `This sign-in link is not valid (links end when "npm start" stops). ${NEW_LINK_HINT}`,
        { reason: 'unknown' },
      );
    }
    if (link.used) {
      return problem(
        410,
        'Gone',
        `This sign-in link was already used; each link works once. ${NEW_LINK_HINT}`,
        {
          reason: 'used',
        },
      );
    }
    if (link.expiresAt <= t) {
      links.delete(key);
      return problem(
        410,
        'Gone',
        `This sign-in link has expired (links last ${Math.round(linkTtlMs / 60_000)} minutes). ${NEW_LINK_HINT}`,
        { reason: 'expired' },
      );
    }
    link.used = true;
    const token = randomBytes(32).toString('base64url');
    const expiresAt = t + sessionTtlMs;
    sessions.set(hash(token), expiresAt);
    return reply(200, { token, expiresAt: new Date(expiresAt).toISOString() });
  };

  const mint = async (event: HttpEvent) => {
    const host = event.headers.host ?? '127.0.0.1';
    return reply(201, newLink(`http://${host}`));
  };

  return {
    newLink,
    isSession(token) {
      const until = sessions.get(hash(token));
      return until !== undefined && until > now();
    },
    routes: [
      { method: 'POST', path: SIGN_IN_PATH, auth: false, handler: exchange, functionName: 'local-sign-in' },
      { method: 'POST', path: SIGN_IN_LINKS_PATH, auth: true, handler: mint, functionName: 'local-sign-in' },
    ],
  };
}
