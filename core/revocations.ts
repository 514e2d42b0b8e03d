/**
 * Grants that outlive their channel only until X has revoked them (issue 19 item 2). Deleting a channel
 * revokes its grant at X; when X cannot be reached the channel is deleted anyway, but its encrypted grant
 * stays in the vault and a *pending revocation* remembers it ("deleted, revocation pending" in the
 * console), until a retry succeeds (then the grant is deleted) or an admin discards it on purpose (then
 * the grant is deleted unrevoked: it stays valid at X until the account owner removes the app).
 *
 *   DELETE → revoke at X ✗ → channel + account claim deleted, grant kept, pending revocation written
 *   DELETE again → revoke ✓ → grant and pending revocation deleted        (revokedAtX: 'revoked')
 *   DELETE ?discardGrant=true → grant and pending revocation deleted      (revokedAtX: 'discarded')
 */
import type { XAccount } from './channel';
import { isChannelError } from './errors';
import type { Clock } from './ports';
import type { XOAuth } from './oauth';
import type { StoredTokens, TokenVault } from './tokens';

/** A deleted channel whose grant X has not revoked yet. */
export interface PendingRevocation {
  channelId: string;
  name: string | null;
  account: XAccount | null;
  /** When the channel was deleted. */
  deletedAt: string;
  /** Revocation attempts so far (the delete's included). */
  attempts: number;
  lastAttemptAt: string;
  /** The last failure's error code (e.g. `x_unavailable`), never a token or X's raw answer. */
  lastError: string;
}

/**
 * The pending revocations (a DynamoDB item each).
 * @example
 * await revocations.put({ channelId, name, account, deletedAt, attempts: 1, lastAttemptAt, lastError });
 * await revocations.list(); // oldest deletion first
 */
export interface RevocationStore {
  put(r: PendingRevocation): Promise<void>;
  get(channelId: string): Promise<PendingRevocation | null>;
  list(): Promise<PendingRevocation[]>;
  /** Idempotent. */
  delete(channelId: string): Promise<void>;
}

export interface RevocationDeps {
  revocations: RevocationStore;
  vault: TokenVault;
  oauth: Pick<XOAuth, 'revoke'>;
  clock: Clock;
}

/** Revokes a grant at X: the refresh token (the long-lived grant) first, then the access token. */
export async function revokeAtX(oauth: Pick<XOAuth, 'revoke'>, tokens: StoredTokens): Promise<void> {
  if (tokens.refreshToken) await oauth.revoke(tokens.refreshToken, 'refresh_token');
  await oauth.revoke(tokens.accessToken, 'access_token');
}

/** An error's code for `lastError`/`revokeError`: ours, or `internal`. */
export const revokeErrorCode = (e: unknown): string => (isChannelError(e) ? e.code : 'internal');

export type RevocationOutcome =
  { revokedAtX: 'revoked' | 'discarded' } | { revokedAtX: 'pending'; revokeError: string; attempts: number };

/** Tries the revocation of a pending one again; on success the grant and the record are deleted. */
export async function retryRevocation(
  deps: RevocationDeps,
  pending: PendingRevocation,
): Promise<RevocationOutcome> {
  const tokens = await deps.vault.get(pending.channelId);
  try {
    if (tokens) await revokeAtX(deps.oauth, tokens);
  } catch (e) {
    const attempts = pending.attempts + 1;
    const revokeError = revokeErrorCode(e);
    await deps.revocations.put({
      ...pending,
      attempts,
      lastAttemptAt: deps.clock.now().toISOString(),
      lastError: revokeError,
    });
    return { revokedAtX: 'pending', revokeError, attempts };
  }
  await deps.vault.delete(pending.channelId);
  await deps.revocations.delete(pending.channelId);
  return { revokedAtX: 'revoked' };
}

/** An admin's explicit choice: delete the grant without revoking it at X. */
export async function discardGrant(
  deps: RevocationDeps,
  pending: PendingRevocation,
): Promise<RevocationOutcome> {
  await deps.vault.delete(pending.channelId);
  await deps.revocations.delete(pending.channelId);
  return { revokedAtX: 'discarded' };
}
