/**
 * Turns twitter-api-v2 errors into our `ChannelError` (STYLE.md §5). The only code that reads X's
 * error bodies. Classification follows X-API.md §5; problem `type` URIs are matched on their suffix
 * because X uses both api.x.com and api.twitter.com prefixes.
 */
import { ApiPartialResponseError, ApiRequestError, ApiResponseError } from 'twitter-api-v2';
import { ChannelError, isChannelError, needsReauth, permanent, retryable } from '../../core/errors';

interface XProblem {
  type?: string;
  title?: string;
  detail?: string;
  reason?: string;
  error?: string;
  error_description?: string;
  errors?: Array<{ code?: number; message?: string; type?: string; detail?: string; title?: string }>;
}

/** The operation that failed, to pick the right permanent code for an ambiguous 403. */
export type XOperation =
  'read' | 'reply' | 'post' | 'dm' | 'follow' | 'token' | 'refresh' | 'revoke' | 'me' | 'media';

const typeEndsWith = (p: XProblem, suffix: string) =>
  Boolean(p.type?.endsWith(suffix) || p.errors?.some((e) => e.type?.endsWith(suffix)));

function text(p: XProblem): string {
  return [
    p.title,
    p.detail,
    p.reason,
    p.error,
    p.error_description,
    ...(p.errors ?? []).map((e) => e.message ?? e.detail),
  ]
    .filter(Boolean)
    .join(' ')
    .toLowerCase();
}

/** Maps any error thrown by a twitter-api-v2 call to a ChannelError. */
export function mapXError(error: unknown, operation: XOperation): ChannelError {
  if (isChannelError(error)) return error;
  if (error instanceof ApiRequestError || error instanceof ApiPartialResponseError) {
    // network failure, reset, timeout or a truncated body: X may or may not have acted.
    return retryable('x_unavailable', 'X could not be reached or answered incompletely', undefined, error);
  }
  if (!(error instanceof ApiResponseError)) {
    return retryable('internal', 'unexpected error talking to X', undefined, error);
  }
  const status = error.code;
  const body: XProblem = (error.data as XProblem) ?? {};
  const t = text(body);
  const resetAt = error.rateLimit?.reset ? new Date(error.rateLimit.reset * 1000) : undefined;

  if (operation === 'refresh' || operation === 'token') {
    if (body.error === 'unauthorized_client' || status === 401) {
      // wrong client id/secret: the app's configuration, not the user's grant (X-API.md §1)
      return permanent(
        'app_config',
        'X refused the app credentials (check the X app client id and secret)',
        error,
      );
    }
    if (status === 400 && (body.error === 'invalid_request' || body.error === 'invalid_grant')) {
      return needsReauth(
        operation === 'refresh'
          ? 'X refused the refresh token (revoked or already used): sign in again'
          : 'X refused the authorization code (expired, used or PKCE mismatch)',
        error,
      );
    }
  }
  if (status === 429) {
    if (typeEndsWith(body, 'usage-capped') || t.includes('usagecapexceeded')) {
      return permanent('credits_depleted', 'X monthly usage cap reached for this app', error);
    }
    return retryable('rate_limited', 'X rate limit reached', resetAt ?? new Date(Date.now() + 60_000), error);
  }
  if (status === 402 || typeEndsWith(body, 'credits-depleted')) {
    return permanent('credits_depleted', 'X API credits are depleted: top up the X developer account', error);
  }
  if (status === 401) return needsReauth('X rejected the access token', error);
  if (status >= 500) return retryable('x_unavailable', `X answered ${status}`, undefined, error);
  if (status === 403) {
    if (
      typeEndsWith(body, 'client-forbidden') ||
      t.includes('client-not-enrolled') ||
      error.hasErrorCode?.(453) ||
      t.includes('subset of x api')
    ) {
      return permanent('access_level', 'the X API plan of this app does not include this endpoint', error);
    }
    // POST /2/tweets with a reply to a deleted or hidden post answers 403, not 404.
    if (t.includes('deleted or not visible'))
      return permanent('target_not_found', 'X says the post to reply to is deleted or not visible', error);
    if (t.includes('duplicate content'))
      return permanent('duplicate_content', 'X refused a duplicate post', error);
    if (t.includes('reply to this conversation is not allowed') || t.includes('not been mentioned')) {
      return permanent(
        'reply_not_allowed',
        'X allows a reply only to a post that mentioned or quoted the account',
        error,
      );
    }
    if (t.includes('attach this media'))
      return permanent('invalid_input', 'X refused the media for a DM (not uploaded for DMs)', error);
    if (operation === 'dm' || t.includes('cannot send messages') || t.includes('direct message')) {
      return permanent(
        'dm_not_allowed',
        'the recipient does not accept direct messages from this account',
        error,
      );
    }
    if (t.includes('suspended')) return permanent('access_level', 'the X account is suspended', error);
    // X-API.md §9: tokens granted before media.write get 403 on upload; only a new sign-in adds the scope.
    if (operation === 'media') {
      return permanent(
        'media_scope_missing',
        "X refused the media upload (403): the channel's sign-in lacks media.write; sign in with X again",
        error,
      );
    }
    if (operation === 'follow')
      return permanent('access_level', 'X does not allow following on this plan', error);
    return permanent('access_level', 'X refused the request (403)', error);
  }
  if (status === 404) return permanent('target_not_found', 'X says the target does not exist', error);
  if (status === 400 || status === 422) {
    if (operation === 'media' && t.includes('file size exceeds'))
      return permanent('media_too_large', 'X refused the media as too large', error);
    if (operation === 'media' && t.includes('not supported'))
      return permanent('media_type_not_supported', 'X refused the media type', error);
    if (t.includes('too long') || t.includes('text length'))
      return permanent('text_too_long', 'X says the text is too long', error);
    return permanent('invalid_input', 'X refused the request as invalid', error);
  }
  return permanent('internal', `X answered ${status}`, error);
}

/** Whether a thrown ChannelError could leave X's state unknown (the request may have been applied). */
export function mayHaveApplied(error: ChannelError): boolean {
  return error.code === 'x_unavailable' && error.cause instanceof ApiRequestError;
}
