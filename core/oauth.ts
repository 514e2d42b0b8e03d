/**
 * OAuth 2.0 authorization-code + PKCE building blocks (RFC 7636, X-API.md §1) and the ports the
 * sign-in use cases need. Pure functions over `node:crypto`; no vendor SDK.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { XAccount } from './channel';

/** Lifetime of a `state` record: long enough to sign in at X, short enough to make a leaked URL useless. */
export const STATE_TTL_SECONDS = 600;

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** `n` random base32 characters (5 bits each, lower case, URL-safe). */
export function randomBase32(n: number): string {
  const bytes = randomBytes(n);
  let out = '';
  for (let i = 0; i < n; i++) out += BASE32[bytes[i] & 31];
  return out;
}

/** Channel ids: `ch_` + 20 base32 chars = 100 random bits, URL-safe, unguessable. */
export const CHANNEL_ID_PATTERN = /^ch_[a-z2-7]{20}$/;
export const newChannelId = (): string => `ch_${randomBase32(20)}`;

/** A `state` of 32 random bytes (256 bits, base64url, 43 chars; X allows ≤ 500). */
export const newState = (): string => randomBytes(32).toString('base64url');
export const STATE_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** A PKCE pair: a 43-char verifier (32 random bytes) and its S256 challenge. */
export interface Pkce {
  codeVerifier: string;
  codeChallenge: string;
  codeChallengeMethod: 'S256';
}

/** S256: base64url(SHA-256(ASCII verifier)) without padding (RFC 7636 §4.2). */
export function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

export function newPkce(): Pkce {
  const codeVerifier = randomBytes(32).toString('base64url');
  return { codeVerifier, codeChallenge: s256(codeVerifier), codeChallengeMethod: 'S256' };
}

/** SHA-256 hex of a value we must compare later without storing it (the browser-binding cookie). */
export const sha256Hex = (value: string): string => createHash('sha256').update(value).digest('hex');

/**
 * A pending sign-in, stored under its `state` until the callback consumes it (single use).
 * Holds the PKCE verifier: it is short-lived and useless without the code X sends to the callback.
 */
export interface OAuthStateRecord {
  state: string;
  channelId: string;
  /** The admin (`sub` claim) who started the sign-in. */
  adminSub: string;
  codeVerifier: string;
  redirectUri: string;
  scopes: string[];
  /** SHA-256 of the browser-binding cookie set by the authorize call; null when binding is off. */
  browserBindingHash: string | null;
  createdAt: string;
  /** Epoch seconds; also the DynamoDB TTL attribute. Checked on read because TTL deletes late. */
  expiresAt: number;
}

/**
 * Pending sign-ins.
 * @example
 * await states.put(record);
 * const got = await states.consume(record.state, record.browserBindingHash);
 * // { record, consumed: true } once, then null; with another binding: { record, consumed: false }
 */
export interface OAuthStateStore {
  put(record: OAuthStateRecord): Promise<void>;
  /**
   * Deletes and returns the record atomically, but only if the caller's browser binding matches:
   * the stored `browserBindingHash` is null (binding was off) or equals `browserBindingHash`.
   * Of two concurrent matching calls, exactly one gets `consumed: true`. A call whose binding does
   * not match leaves the record in place and gets it back with `consumed: false`, so a forwarded
   * sign-in link cannot cancel the admin's pending sign-in. Null when there is no such state.
   */
  consume(
    state: string,
    browserBindingHash: string | null,
  ): Promise<{ record: OAuthStateRecord; consumed: boolean } | null>;
}

/** A token set as X returns it. */
export interface OAuthTokenSet {
  accessToken: string;
  refreshToken: string | null;
  expiresInSeconds: number;
  scopes: string[];
}

/**
 * X's OAuth 2.0 endpoints for our app (adapters/x/oauth.ts). Errors are `ChannelError`s:
 * refused grant → `needs_reauth`; bad app credentials → `permanent` `app_config`; outage → `retryable`.
 */
export interface XOAuth {
  authorizeUrl(input: {
    redirectUri: string;
    scopes: string[];
    state: string;
    codeChallenge: string;
  }): Promise<string>;
  exchangeCode(input: { code: string; codeVerifier: string; redirectUri: string }): Promise<OAuthTokenSet>;
  refresh(refreshToken: string): Promise<OAuthTokenSet>;
  revoke(token: string, kind: 'access_token' | 'refresh_token'): Promise<void>;
  /** `GET /2/users/me` with the profile image. */
  me(accessToken: string): Promise<XAccount>;
}
