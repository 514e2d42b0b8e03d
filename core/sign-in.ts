/**
 * Sign in with X behind the admin API: `startAuthorization` (a single-use state with PKCE, X's
 * authorize URL) and `completeSignIn` at the OAuth callback (the code exchanged, the account read and
 * claimed, the tokens stored, the channel activated, the grant a re-authorization replaced revoked).
 * Every refusal is a `SignInOutcome` with a reason the callback page shows; the channel use cases it
 * builds on are in `channels.ts`.
 */
import type { Channel, XAccount } from './channel';
import { scopesFor } from './channel';
import { getChannel, type SignInDeps } from './channels';
import { ChannelError, isChannelError } from './errors';
import { STATE_PATTERN, STATE_TTL_SECONDS, newPkce, newState, sha256Hex } from './oauth';
import type { StoredTokens } from './tokens';
import { toStoredTokens } from './tokens';
import { firstAttempt, replacedGrantId, revokeAtX, revokeErrorCode } from './revocations';

export interface StartAuthorizationInput {
  channelId: string;
  adminSub: string;
  redirectUri: string;
  /** SHA-256 of the browser-binding cookie the API sets with this answer; null when binding is off. */
  browserBindingHash: string | null;
}

/** Creates a single-use `state` with a PKCE verifier and answers X's authorize URL. */
export async function startAuthorization(
  deps: SignInDeps,
  input: StartAuthorizationInput,
): Promise<{ authorizeUrl: string; expiresAt: string; scopes: string[] }> {
  const channel = await getChannel(deps, input.channelId);
  const scopes = scopesFor(channel);
  const pkce = newPkce();
  const state = newState();
  const now = deps.clock.now();
  const expiresAt = Math.floor(now.getTime() / 1000) + STATE_TTL_SECONDS;
  await deps.states.put({
    state,
    channelId: channel.id,
    adminSub: input.adminSub,
    codeVerifier: pkce.codeVerifier,
    redirectUri: input.redirectUri,
    scopes,
    browserBindingHash: input.browserBindingHash,
    createdAt: now.toISOString(),
    expiresAt,
  });
  const authorizeUrl = await deps.oauth.authorizeUrl({
    redirectUri: input.redirectUri,
    scopes,
    state,
    codeChallenge: pkce.codeChallenge,
  });
  return { authorizeUrl, expiresAt: new Date(expiresAt * 1000).toISOString(), scopes };
}

/** Why a callback was refused; also the `error` of the page's postMessage. */
export type SignInRefusal =
  | 'missing_state'
  | 'invalid_request'
  | 'unknown_state'
  | 'expired_state'
  | 'browser_mismatch'
  | 'access_denied'
  | 'x_error'
  | 'channel_gone'
  | 'exchange_failed'
  | 'account_in_use'
  | 'account_mismatch'
  | 'x_unavailable'
  | 'app_config';

export type SignInOutcome =
  | { ok: true; channelId: string; account: XAccount }
  | { ok: false; error: SignInRefusal; status: number; message: string; channelId?: string };

export interface CallbackInput {
  state?: string;
  code?: string;
  error?: string;
  /** The browser-binding cookie value, if the browser sent one. */
  browserBinding?: string;
}

const refuse = (
  error: SignInRefusal,
  status: number,
  message: string,
  channelId?: string,
): SignInOutcome => ({ ok: false, error, status, message, ...(channelId ? { channelId } : {}) });

/**
 * The OAuth callback: consumes the state, exchanges the code, reads the account, claims it, stores
 * the tokens, activates the channel and revokes the grant a re-authorization replaced. Every refusal writes nothing but the consumed state; a
 * callback from another browser (binding cookie missing or wrong) does not even consume it.
 */
export async function completeSignIn(deps: SignInDeps, input: CallbackInput): Promise<SignInOutcome> {
  if (!input.state)
    return refuse('missing_state', 400, 'The sign-in answer has no state. Start again from the console.');
  if (input.code && input.error) {
    return refuse(
      'invalid_request',
      400,
      'The sign-in answer carries both a code and an error. Start again from the console.',
    );
  }
  if (!input.code && !input.error) {
    return refuse(
      'invalid_request',
      400,
      'The sign-in answer has neither a code nor an error. Start again from the console.',
    );
  }
  if (!STATE_PATTERN.test(input.state)) {
    return refuse(
      'unknown_state',
      400,
      'This sign-in link is unknown or was already used. Start again from the console.',
    );
  }
  // The binding is part of the delete's condition: a callback from another browser (no cookie or
  // another one) is refused without consuming the state, so the admin's own callback still works.
  const got = await deps.states.consume(
    input.state,
    input.browserBinding ? sha256Hex(input.browserBinding) : null,
  );
  if (!got) {
    return refuse(
      'unknown_state',
      400,
      'This sign-in link is unknown or was already used. Start again from the console.',
    );
  }
  const { record } = got;
  const { channelId } = record;
  if (record.expiresAt * 1000 <= deps.clock.now().getTime()) {
    return refuse(
      'expired_state',
      400,
      'This sign-in link expired (10 minutes). Start again from the console.',
      channelId,
    );
  }
  if (!got.consumed) {
    return refuse(
      'browser_mismatch',
      400,
      'This sign-in was started in another browser or by another admin. Start again from the console in this browser.',
      channelId,
    );
  }
  if (input.error) {
    return input.error === 'access_denied'
      ? refuse('access_denied', 400, 'You cancelled the sign-in at X. The channel is unchanged.', channelId)
      : refuse('x_error', 400, 'X refused the sign-in. The channel is unchanged; try again.', channelId);
  }
  const channel = await deps.channels.get(channelId);
  if (!channel) return refuse('channel_gone', 400, 'The channel was deleted while signing in.', channelId);

  let tokens;
  try {
    tokens = await deps.oauth.exchangeCode({
      code: input.code!,
      codeVerifier: record.codeVerifier,
      redirectUri: record.redirectUri,
    });
  } catch (e) {
    return exchangeRefusal(e, channelId);
  }

  const revokeQuietly = async () => {
    try {
      if (tokens.refreshToken) await deps.oauth.revoke(tokens.refreshToken, 'refresh_token');
      await deps.oauth.revoke(tokens.accessToken, 'access_token');
    } catch {
      deps.onWarning?.({ channelId, code: 'revoke_failed', message: 'revoking an unused grant at X failed' });
    }
  };

  let account: XAccount;
  try {
    account = await deps.oauth.me(tokens.accessToken);
  } catch (e) {
    await revokeQuietly();
    return exchangeRefusal(e, channelId);
  }

  if (channel.account && channel.account.id !== account.id) {
    await revokeQuietly();
    return refuse(
      'account_mismatch',
      409,
      `This channel is connected to @${channel.account.username}, not @${account.username}. Sign in as @${channel.account.username}, or create a new channel for @${account.username}.`,
      channelId,
    );
  }
  try {
    await deps.channels.claimAccount(account.id, channelId);
  } catch (e) {
    if (isChannelError(e) && e.code === 'account_in_use') {
      await revokeQuietly();
      return refuse('account_in_use', 409, `@${account.username}: ${e.message}.`, channelId);
    }
    throw e;
  }

  const now = deps.clock.now();
  // A re-authorization replaces a grant: keep the old pair to revoke it at X once the new one is stored.
  const replaced = await deps.vault.get(channelId).catch(() => null);
  await deps.vault.put(channelId, toStoredTokens(tokens, now, record.scopes));

  for (let attempt = 0; ; attempt++) {
    const current = attempt === 0 ? channel : await deps.channels.get(channelId);
    if (!current) {
      // deleted between the exchange and now: undo what this callback wrote
      await deps.vault.delete(channelId);
      await deps.channels.releaseAccount(account.id, channelId);
      await revokeQuietly();
      return refuse('channel_gone', 400, 'The channel was deleted while signing in.', channelId);
    }
    try {
      await deps.channels.update(channelId, current.version, {
        status: 'active',
        statusReason: null,
        account,
        scopes: tokens.scopes.length ? tokens.scopes : record.scopes,
        // a re-authorization keeps the original start of delivery (and the checkpoints)
        connectedAt: current.connectedAt ?? now.toISOString(),
      });
      await revokeReplaced(deps, { ...current, account }, replaced, tokens);
      return { ok: true, channelId, account };
    } catch (e) {
      if (isChannelError(e) && e.code === 'conflict' && attempt < 4) continue;
      throw e;
    }
  }
}

/**
 * Revokes the grant a re-authorization replaced (issue 19 item 2): its refresh token (the long-lived
 * grant) and its access token, unless X handed the same ones back. The new grant is stored and the
 * channel active either way. When X cannot revoke it now, the replaced pair moves to a vault entry of its
 * own and a pending revocation of kind `replaced` remembers it (core/revocations.ts), so the scheduled
 * retry revokes it later; without a revocation store it is only a `revoke_previous_failed` warning.
 */
async function revokeReplaced(
  deps: SignInDeps,
  channel: Pick<Channel, 'id' | 'name' | 'account'>,
  replaced: StoredTokens | null,
  current: { accessToken: string; refreshToken: string | null },
): Promise<void> {
  if (!replaced) return;
  // Only what differs from the new pair: revoking a token X handed back would end the new grant.
  const stale: StoredTokens = {
    ...replaced,
    accessToken: replaced.accessToken !== current.accessToken ? replaced.accessToken : '',
    refreshToken: replaced.refreshToken !== current.refreshToken ? replaced.refreshToken : null,
  };
  if (!stale.accessToken && !stale.refreshToken) return;
  const channelId = channel.id;
  let code: string;
  try {
    await revokeAtX(deps.oauth, stale);
    return;
  } catch (e) {
    code = revokeErrorCode(e);
  }
  if (!deps.revocations) {
    deps.onWarning?.({
      channelId,
      code: 'revoke_previous_failed',
      message: 'revoking the grant a re-authorization replaced failed at X',
    });
    return;
  }
  try {
    const now = deps.clock.now();
    const id = replacedGrantId(channelId, now);
    // The grant first, then its record: the record never points at a grant that is not kept.
    await deps.vault.put(id, { ...stale, updatedAt: now.toISOString() });
    await deps.revocations.put(
      firstAttempt(
        { id, kind: 'replaced', channelId, name: channel.name, account: channel.account },
        now,
        code,
      ),
    );
    deps.onWarning?.({
      channelId,
      code: 'revoke_previous_pending',
      message: 'X could not revoke the grant a re-authorization replaced; the scheduled retry will',
    });
  } catch {
    deps.onWarning?.({
      channelId,
      code: 'revoke_previous_failed',
      message: 'the grant a re-authorization replaced could not be kept for a later revocation',
    });
  }
}

function exchangeRefusal(e: unknown, channelId: string): SignInOutcome {
  if (!(e instanceof ChannelError)) throw e;
  switch (e.kind) {
    case 'needs_reauth':
    case 'invalid_input':
      return refuse(
        'exchange_failed',
        400,
        'X refused the sign-in code (expired, already used or not ours). Start again from the console.',
        channelId,
      );
    case 'permanent':
      return e.code === 'app_config'
        ? refuse(
            'app_config',
            502,
            'X refused this app’s credentials. Ask the operator to check the X app client id and secret.',
            channelId,
          )
        : refuse('exchange_failed', 400, 'X refused the sign-in. Start again from the console.', channelId);
    case 'retryable':
      return refuse(
        'x_unavailable',
        502,
        'X could not be reached to finish the sign-in. Start again in a moment.',
        channelId,
      );
  }
}
