/**
 * The two HMAC checks of X's webhooks (X-API.md §7, §9): the CRC answer and the body signature. Both
 * are `sha256=` + base64(HMAC-SHA256(key = the app's API key secret, i.e. the OAuth 1.0a consumer
 * secret — not the OAuth 2.0 client secret)).
 *
 * Signing oracle: because the CRC answer and the body signature are the same construction under the
 * same key, an endpoint that answers ANY `crc_token` lets anyone obtain a valid signature for a body of
 * their choosing. So only a token of the shape X sends is answered — base64/base64url characters, a
 * bounded length — and never one that parses as JSON (vercel/chat PR #775 fixed exactly this hole).
 * A token of that charset cannot be a JSON object or array; the JSON check also refuses bare numbers.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The prefix X puts before the base64 digest, in the CRC answer and in `x-twitter-webhooks-signature`. */
export const SIGNATURE_PREFIX = 'sha256=';

/** Header carrying the body signature (lower case: API Gateway v2 and node lower-case header names). */
export const SIGNATURE_HEADER = 'x-twitter-webhooks-signature';

/**
 * The `crc_token` shapes answered: base64 or base64url characters (X sends a random base64 string of
 * about 48 characters), 16–256 long.
 */
const CRC_TOKEN = /^[A-Za-z0-9+/_=-]{16,256}$/;

/** Why a `crc_token` is refused; `null` when it is of the shape X sends and may be answered. */
export function crcTokenProblem(token: unknown): string | null {
  if (typeof token !== 'string' || token.length === 0) return 'crc_token is required';
  if (!CRC_TOKEN.test(token)) return 'crc_token must be 16–256 base64 characters';
  try {
    JSON.parse(token);
    return 'crc_token must not be a JSON value';
  } catch {
    return null;
  }
}

const hmacBase64 = (secret: string, message: Buffer | string) =>
  createHmac('sha256', secret).update(message).digest('base64');

/**
 * The CRC answer for a token that passed `crcTokenProblem`; throws on any other token, so no caller can
 * turn this into a signing oracle by forgetting the check.
 *
 * @example
 * crcResponseToken('9b2b4b1c2f2d4a0a8d5e6f7a8b9c0d1e', apiKeySecret) // → 'sha256=…'
 */
export function crcResponseToken(token: string, apiKeySecret: string): string {
  const problem = crcTokenProblem(token);
  if (problem) throw new Error(`refusing to sign: ${problem}`);
  return SIGNATURE_PREFIX + hmacBase64(apiKeySecret, token);
}

/** `sha256=` + base64 HMAC of a raw body: what X sends in `x-twitter-webhooks-signature` (used by tests and the simulated X). */
export function signBody(rawBody: Buffer | string, apiKeySecret: string): string {
  return SIGNATURE_PREFIX + hmacBase64(apiKeySecret, rawBody);
}

/**
 * Whether `header` is X's signature of exactly these raw bytes. Constant time in the signature: both
 * sides are hashed to 32 bytes first, so neither a length difference nor a prefix match is observable.
 * A missing header, a header without the `sha256=` prefix or a non-string is simply not valid.
 */
export function verifySignature(
  rawBody: Buffer | string,
  header: string | undefined | null,
  apiKeySecret: string,
): boolean {
  if (typeof header !== 'string') return false;
  const expected = signBody(rawBody, apiKeySecret);
  // hash both to a fixed length so timingSafeEqual never throws and lengths do not leak
  const digest = (s: string) => createHmac('sha256', 'x-channel-compare').update(s).digest();
  return timingSafeEqual(digest(header.trim()), digest(expected));
}
