/**
 * Shared steps for the sim-x integration tests: start a simulator with a test clock, register an
 * app, and sign an account in through the authorize page exactly as a browser would (GET the page,
 * POST the form), then exchange the code with twitter-api-v2.
 */
import { createXAppClient, createXUserClient } from '../../../adapters/x/client';
import { startSimX, type SimX, type SimXOptions } from '../../../sim/x/server';
import { checkWireFormat, type WireViolation } from './openapi';

const violations = new WeakMap<SimX, WireViolation[]>();
const checked = new WeakMap<SimX, Set<string>>();

/** Answers of `sim` that did not match X's OpenAPI schemas (every test asserts this is empty). */
export function wireViolations(sim: SimX): WireViolation[] {
  return violations.get(sim) ?? [];
}

/** Endpoints whose successful answers were validated. */
export function validatedEndpoints(sim: SimX): string[] {
  return [...(checked.get(sim) ?? [])].sort();
}

export const CLIENT_ID = 'test-client';
export const CLIENT_SECRET = 'test-client-secret-0123456789';
export const REDIRECT_URI = 'http://127.0.0.1:9/oauth/callback';
/** The app's OAuth 1.0a consumer key and secret (app-only bearer token, webhook CRC and signatures). */
export const API_KEY = 'test-api-key';
export const API_KEY_SECRET = 'test-api-key-secret-0123456789abcdef';
export const ALL_SCOPES = [
  'tweet.read',
  'tweet.write',
  'users.read',
  'dm.read',
  'dm.write',
  'follows.write',
  'offline.access',
] as const;

/** A clock the test moves by hand. */
export function testClock(start = Date.UTC(2026, 8, 1, 12, 0, 0)) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

/** Starts a simulator with a registered confidential app. */
export async function startTestSim(options: SimXOptions = {}): Promise<SimX> {
  const found: WireViolation[] = [];
  const seen = new Set<string>();
  const sim = await startSimX({
    clock: testClock(),
    onApiResponse: ({ endpoint, status, body }) => {
      if (status < 300) seen.add(endpoint);
      const violation = checkWireFormat(endpoint, status, body);
      if (violation) found.push(violation);
    },
    ...options,
  });
  violations.set(sim, found);
  checked.set(sim, seen);
  sim.registerApp({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    name: 'Acme Support',
    redirectUris: [REDIRECT_URI],
    apiKey: API_KEY,
    apiKeySecret: API_KEY_SECRET,
  });
  return sim;
}

/** The app client for `sim`. */
export function appClient(sim: SimX, timeoutMs?: number) {
  return createXAppClient({
    apiBaseUrl: sim.url,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    timeoutMs,
  });
}

/** The authorize URL twitter-api-v2 builds, moved to the simulator's origin. */
export function authorizeLink(sim: SimX, scopes: readonly string[] = ALL_SCOPES) {
  const link = appClient(sim).generateOAuth2AuthLink(REDIRECT_URI, { scope: [...scopes], state: 'st-123' });
  const url = new URL(link.url);
  const simUrl = new URL(`${sim.url}${url.pathname}${url.search}`);
  return { ...link, url: simUrl };
}

/** Submits the authorize form like a browser; returns the redirect Location. */
export async function submitAuthorize(authUrl: URL, fields: Record<string, string>): Promise<Response> {
  return fetch(authUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  });
}

/** Full sign-in: authorize page → form → code → tokens. */
export async function signIn(sim: SimX, username: string, scopes: readonly string[] = ALL_SCOPES) {
  const link = authorizeLink(sim, scopes);
  const page = await fetch(link.url);
  if (page.status !== 200) throw new Error(`authorize page answered ${page.status}`);
  const res = await submitAuthorize(link.url, { username, decision: 'allow' });
  const location = new URL(res.headers.get('location') ?? '');
  const code = location.searchParams.get('code');
  if (!code) throw new Error('no code in redirect');
  const login = await appClient(sim).loginWithOAuth2({
    code,
    codeVerifier: link.codeVerifier,
    redirectUri: REDIRECT_URI,
  });
  return login;
}

/** A user client on an access token. */
export function userClient(sim: SimX, accessToken: string, timeoutMs?: number) {
  return createXUserClient({ apiBaseUrl: sim.url, accessToken, timeoutMs });
}

/** JSON call to the control API. */
export async function control(sim: SimX, method: string, path: string, body?: unknown) {
  const res = await fetch(`${sim.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}
