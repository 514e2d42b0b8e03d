/**
 * Grants that outlive their use only until X has revoked them (issue 19 item 2). Two kinds:
 * - `deleted`: deleting a channel revokes its grant at X; when X cannot be reached the channel is deleted
 *   anyway, but its encrypted grant stays in the vault and a *pending revocation* remembers it ("deleted,
 *   revocation pending" in the console);
 * - `replaced`: a re-authorization stores the new pair and revokes the one it replaced; when X cannot be
 *   reached the replaced pair is moved to a vault entry of its own (never into the table) and recorded.
 * A scheduled retry (`retryDueRevocations`, the api function's revocation schedule) asks X again with a
 * capped exponential backoff until X revokes it (then the vault entry and the record are deleted) or an
 * admin discards it on purpose (then the grant is deleted unrevoked: it stays valid at X until the
 * account owner removes the app).
 *
 *   DELETE → revoke at X ✗ → channel + account claim deleted, grant kept, pending revocation written
 *   schedule tick (when due) or DELETE again → revoke ✓ → grant and record deleted (revokedAtX: 'revoked')
 *                                             → revoke ✗ → attempts + 1, next attempt backed off
 *   DELETE ?discardGrant=true → grant and pending revocation deleted      (revokedAtX: 'discarded')
 *
 * Keys: a deleted channel's record and vault entry are keyed by the channel id; a replaced grant's by
 * `<channel id>.replaced.<ms>` ({@link replacedGrantId}), which no channel id matches, so the two never
 * collide and a channel may have several replaced grants pending.
 */
import type { XAccount } from './channel';
import { isChannelError } from './errors';
import type { Clock } from './ports';
import type { XOAuth } from './oauth';
import type { StoredTokens, TokenVault } from './tokens';

/** A grant that is no longer used and that X has not revoked yet. */
export interface PendingRevocation {
  /** The record's key and the vault entry holding the grant (see the header). */
  id: string;
  kind: 'deleted' | 'replaced';
  /** The channel the grant belonged to (deleted for `deleted`, still there for `replaced`). */
  channelId: string;
  name: string | null;
  account: XAccount | null;
  /** When the grant went out of use: the channel's deletion, or the re-authorization that replaced it. */
  deletedAt: string;
  /** Revocation attempts so far (the first one included). */
  attempts: number;
  lastAttemptAt: string;
  /** The last failure's error code (e.g. `x_unavailable`), never a token or X's raw answer. */
  lastError: string;
  /** When the scheduled retry asks X next ({@link nextAttemptDelayMs}). */
  nextAttemptAt: string;
}

/**
 * The pending revocations (a DynamoDB item each).
 * @example
 * await revocations.put({ id: channelId, kind: 'deleted', channelId, name, account, deletedAt, attempts: 1, lastAttemptAt, lastError, nextAttemptAt });
 * await revocations.list(); // oldest first
 */
export interface RevocationStore {
  put(r: PendingRevocation): Promise<void>;
  /**
   * Writes a failed attempt only if the record still exists (a concurrent success or discard deleted
   * it); answers whether it did.
   */
  recordAttempt(r: PendingRevocation): Promise<boolean>;
  get(id: string): Promise<PendingRevocation | null>;
  /** Every pending revocation of both kinds, oldest first. */
  list(): Promise<PendingRevocation[]>;
  /** Idempotent. */
  delete(id: string): Promise<void>;
}

export interface RevocationDeps {
  revocations: RevocationStore;
  vault: TokenVault;
  oauth: Pick<XOAuth, 'revoke'>;
  clock: Clock;
}

/** First retry 5 minutes after a failure, doubling, at most an hour apart (a long X outage is not hammered). */
export const REVOCATION_BACKOFF = { baseMs: 5 * 60_000, capMs: 60 * 60_000 } as const;

/** How long after its `attempts`-th failed attempt a pending revocation is tried again. */
export function nextAttemptDelayMs(attempts: number, backoff = REVOCATION_BACKOFF): number {
  const doublings = Math.min(Math.max(attempts, 1) - 1, 30);
  return Math.min(backoff.capMs, backoff.baseMs * 2 ** doublings);
}

/** The record and vault key of a grant that a re-authorization of `channelId` replaced at `at`. */
export const replacedGrantId = (channelId: string, at: Date): string =>
  `${channelId}.replaced.${at.getTime()}`;

/**
 * Revokes a grant at X: the refresh token (the long-lived grant) first, then the access token (an empty
 * access token is one that must not be revoked: it is still in use).
 */
export async function revokeAtX(oauth: Pick<XOAuth, 'revoke'>, tokens: StoredTokens): Promise<void> {
  if (tokens.refreshToken) await oauth.revoke(tokens.refreshToken, 'refresh_token');
  if (tokens.accessToken) await oauth.revoke(tokens.accessToken, 'access_token');
}

/** An error's code for `lastError`/`revokeError`: ours, or `internal`. */
export const revokeErrorCode = (e: unknown): string => (isChannelError(e) ? e.code : 'internal');

export type RevocationOutcome =
  { revokedAtX: 'revoked' | 'discarded' } | { revokedAtX: 'pending'; revokeError: string; attempts: number };

/** The record of a first failed attempt at `now`. */
export function firstAttempt(
  r: Pick<PendingRevocation, 'id' | 'kind' | 'channelId' | 'name' | 'account'>,
  now: Date,
  lastError: string,
): PendingRevocation {
  return {
    ...r,
    deletedAt: now.toISOString(),
    attempts: 1,
    lastAttemptAt: now.toISOString(),
    lastError,
    nextAttemptAt: new Date(now.getTime() + nextAttemptDelayMs(1)).toISOString(),
  };
}

/**
 * Tries the revocation of a pending one again (whether or not it is due: an admin's retry is not held
 * back); on success the grant and the record are deleted, on failure the attempt is counted and the
 * next one backed off.
 */
export async function retryRevocation(
  deps: RevocationDeps,
  pending: PendingRevocation,
): Promise<RevocationOutcome> {
  const tokens = await deps.vault.get(pending.id);
  try {
    if (tokens) await revokeAtX(deps.oauth, tokens);
  } catch (e) {
    const attempts = pending.attempts + 1;
    const revokeError = revokeErrorCode(e);
    const now = deps.clock.now();
    await deps.revocations.recordAttempt({
      ...pending,
      attempts,
      lastAttemptAt: now.toISOString(),
      lastError: revokeError,
      nextAttemptAt: new Date(now.getTime() + nextAttemptDelayMs(attempts)).toISOString(),
    });
    return { revokedAtX: 'pending', revokeError, attempts };
  }
  await deps.vault.delete(pending.id);
  await deps.revocations.delete(pending.id);
  return { revokedAtX: 'revoked' };
}

/** An admin's explicit choice: delete the grant without revoking it at X. */
export async function discardGrant(
  deps: RevocationDeps,
  pending: PendingRevocation,
): Promise<RevocationOutcome> {
  await deps.vault.delete(pending.id);
  await deps.revocations.delete(pending.id);
  return { revokedAtX: 'discarded' };
}

/** What one scheduled retry did; ids only (a channel id and a time), never a token. */
export interface RetryReport {
  /** Pending revocations before the tick. */
  pending: number;
  /** Of those, due now. */
  due: number;
  revoked: string[];
  /** Still pending after this tick's attempt. */
  failed: Array<{ id: string; code: string; attempts: number }>;
  /** Due but left to the next tick (the per-tick limit, or too little time left). */
  deferred: number;
}

export interface RetryOptions {
  /** At most this many attempts per tick (default 25). */
  limit?: number;
  /** Whether there is time for one more attempt (the Lambda's remaining time); default always. */
  hasTimeFor?: () => boolean;
}

/**
 * One tick of the scheduled retry: every pending revocation whose `nextAttemptAt` has come is tried,
 * oldest first. A record without `nextAttemptAt` (written before it existed) is due.
 */
export async function retryDueRevocations(
  deps: RevocationDeps,
  options: RetryOptions = {},
): Promise<RetryReport> {
  const limit = options.limit ?? 25;
  const now = deps.clock.now().getTime();
  const all = await deps.revocations.list();
  const due = all.filter((r) => !(Date.parse(r.nextAttemptAt) > now));
  const report: RetryReport = { pending: all.length, due: due.length, revoked: [], failed: [], deferred: 0 };
  for (const [i, r] of due.entries()) {
    if (i >= limit || (options.hasTimeFor && !options.hasTimeFor())) {
      report.deferred = due.length - i;
      break;
    }
    const outcome = await retryRevocation(deps, r);
    if (outcome.revokedAtX === 'pending')
      report.failed.push({ id: r.id, code: outcome.revokeError, attempts: outcome.attempts });
    else report.revoked.push(r.id);
  }
  return report;
}

/** The `source` of the revocation schedule's input (EventBridge Scheduler → the api function). */
export const REVOCATION_RETRY_SOURCE = 'x-channel.revocation-retry';
