/**
 * The lifecycle of one outbound idempotency record, on its own: read → status → claim → (work) →
 * settle (complete with the result) or leave (release / mark uncertain). `send.ts` wraps the work in it.
 *
 * Timeline of one record (why each write is conditional on `owner`, the fencing token):
 * ```
 * absent ──claim(create)──▶ in_progress(owner A, lease) ──settle──▶ completed(result)   (re-emitted as is)
 *                               │ leave: X certainly did not act ──▶ deleted              (next claim creates)
 *                               │ leave: X may have acted ─────────▶ in_progress, uncertain, lease ended
 *                               │ A crashes: the lease runs out ───▶ abandoned
 * abandoned ──claim(take over, expected owner A)──▶ in_progress(owner B): B asks X first (send.ts 4b)
 * ```
 * A settle that finds the record held by someone else (A's lease ran out and B took over) never
 * publishes A's result: the store answers with the record as it was (DynamoDB `ALL_OLD`), and only a
 * result stored there may go out.
 *
 * Modelled on Powertools' `IdempotencyRecord.getStatus()` and `IdempotencyHandler` (see STYLE.md §13).
 */
import type { ResultErrorCode, ResultMessage } from '../../contracts';
import type { IdempotencyClaim, IdempotencyRecord, IdempotencyStore } from './ports';
import type { BlockReason } from './rate-gate';

/**
 * What a stored record means for a new delivery of its command, at `now`:
 * - `absent`: nothing stored; the delivery creates the record;
 * - `completed`: a result is stored; it goes out again, X is not called;
 * - `in_flight`: another delivery holds a live lease and is talking to X; never a parallel post;
 * - `abandoned`: an earlier attempt left it (lease over, or flagged uncertain); it may be taken over,
 *   and X is asked first whether that attempt got through.
 */
export type RecordStatus =
  | { status: 'absent' }
  | { status: 'completed'; result: ResultMessage }
  | { status: 'in_flight'; leaseLeftMs: number }
  | { status: 'abandoned'; record: IdempotencyRecord };

/** The one place a record's status is computed (Powertools: `IdempotencyRecord.getStatus`). */
export function recordStatus(record: IdempotencyRecord | null, now: Date): RecordStatus {
  if (!record) return { status: 'absent' };
  if (record.state === 'completed' && record.result) return { status: 'completed', result: record.result };
  const leaseLeftMs = Date.parse(record.leaseExpiresAt) - now.getTime();
  if (record.state === 'in_progress' && !record.uncertain && leaseLeftMs > 0)
    return { status: 'in_flight', leaseLeftMs };
  // (a `completed` record without a result is not written by this code; a take-over of it is refused)
  return { status: 'abandoned', record };
}

/** Why the record, not the work, decided the outcome. */
export type RecordReason = 'replayed' | 'in_flight_elsewhere' | 'claim_lost' | 'completion_lost';

/** Why the work ended as it did (the step of send.ts that decided). */
export type WorkReason =
  'sent' | 'recovered' | 'channel_paused' | 'budget_exhausted' | 'internal' | BlockReason | ResultErrorCode;

/**
 * A `ChannelError.code` an adapter raised (retryable X or AWS failures, permanent refusals): reported
 * as the reason unchanged, so it is the one open member of {@link SendReason}.
 */
export type ErrorCodeReason = string & Record<never, never>;

/** The `reason` of every {@link SendOutcome}: for logs and the transport, never part of the result. */
export type SendReason = RecordReason | WorkReason | ErrorCodeReason;

/**
 * What the transport does with the message:
 * - `result`: publish `result`, then delete the message;
 * - `retry`: make the message visible again after `delaySeconds` (a batch item failure), no result yet;
 * - `drop`: delete without a result, because another delivery of the same command holds the lease and reports it.
 */
export type SendOutcome =
  | { action: 'result'; result: ResultMessage; reason: SendReason }
  | { action: 'retry'; delaySeconds: number; reason: SendReason }
  | { action: 'drop'; reason: SendReason };

/** Waits for another delivery's result: retried after `delaySeconds`, or dropped on the last receive. */
export function waitForOther(reason: RecordReason, delaySeconds: number, lastReceive: boolean): SendOutcome {
  return lastReceive ? { action: 'drop', reason } : { action: 'retry', delaySeconds, reason };
}

/** A record this attempt holds: what every later write is conditional on, and what X may know. */
export interface HeldRecord {
  readonly channelId: string;
  readonly key: string;
  /** This attempt's fencing token. */
  readonly owner: string;
  /** The record an earlier attempt left and this one took over (null: this attempt created it). */
  readonly previous: IdempotencyRecord | null;
  /** Whether X may hold a delivery of this command (an earlier attempt, or a call without an answer). */
  mayHaveActed: boolean;
  /** The claim as written (a lease renewal writes it again with a later `leaseExpiresAt`). */
  readonly claim: IdempotencyClaim;
}

export interface ClaimInput {
  channelId: string;
  key: string;
  bodyHash: string;
  owner: string;
  now: Date;
  leaseSeconds: number;
  /** The record read before (absent, or abandoned by an earlier attempt). */
  previous: IdempotencyRecord | null;
}

/**
 * Creates the record, or takes over the exact abandoned one read before (same owner, still in
 * progress). `null` when another delivery got there first.
 */
export async function claimRecord(store: IdempotencyStore, input: ClaimInput): Promise<HeldRecord | null> {
  const { channelId, key, owner, now, previous } = input;
  const claim: IdempotencyClaim = {
    bodyHash: input.bodyHash,
    owner,
    leaseExpiresAt: new Date(now.getTime() + input.leaseSeconds * 1000).toISOString(),
    attemptStartedAt: previous?.attemptStartedAt ?? now.toISOString(),
    uncertain: previous?.uncertain ?? false,
  };
  const write = await store.claim(channelId, key, claim, previous?.owner ?? null);
  if (!write.ok) return null;
  return { channelId, key, owner, previous, mayHaveActed: previous !== null, claim };
}

/**
 * Extends the lease of a record this attempt still holds (a conditional write on `owner`, like every
 * other): work before the one write to X (media uploads) may outlast the lease, and the write must not
 * happen once another delivery could have taken the record over. False: the record is no longer ours.
 */
export async function renewRecord(
  store: IdempotencyStore,
  held: HeldRecord,
  now: Date,
  leaseSeconds: number,
): Promise<boolean> {
  const claim = {
    ...held.claim,
    leaseExpiresAt: new Date(now.getTime() + leaseSeconds * 1000).toISOString(),
  };
  const write = await store.claim(held.channelId, held.key, claim, held.owner);
  return write.ok;
}

export interface SettleOptions {
  lastReceive: boolean;
  /** How long to wait for the delivery that took the record over. */
  leaseSeconds: number;
  onLost?: (reason: SendReason) => void;
}

/**
 * Ends the attempt with a result, retryable failures included: the result is stored before it is
 * published, so a redelivery (or a resend under the same key) re-emits it byte for byte and never
 * reports a second, different result for the key.
 */
export async function settleRecord(
  store: IdempotencyStore,
  held: HeldRecord,
  result: ResultMessage,
  reason: SendReason,
  options: SettleOptions,
): Promise<SendOutcome> {
  const write = await store.complete(held.channelId, held.key, held.owner, result);
  if (write.ok) return { action: 'result', result, reason };
  // Lost the record (our lease ran out and another delivery took over): only its stored result may go out.
  options.onLost?.(reason);
  const stored = recordStatus(write.current, new Date(0));
  if (stored.status === 'completed') return { action: 'result', result: stored.result, reason: 'replayed' };
  return waitForOther('completion_lost', options.leaseSeconds, options.lastReceive);
}

/**
 * Leaves the record without a result: frees it when X certainly did not act, otherwise keeps it,
 * flagged uncertain with its lease ended, so the next attempt checks X before posting.
 */
export async function leaveRecord(store: IdempotencyStore, held: HeldRecord, now: Date): Promise<void> {
  if (held.mayHaveActed) await store.markUncertain(held.channelId, held.key, held.owner, now);
  else await store.release(held.channelId, held.key, held.owner);
}
