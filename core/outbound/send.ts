/**
 * The send algorithm: one outbound command → at most one post/DM at X → exactly one result.
 * (~570 lines: the timeline below and the code that follows it stay side by side; the record lifecycle
 * lives in idempotency.ts, settings in send-types.ts, the auth retry in authed-writer.ts, the media rules
 * in media.ts.)
 *
 * Timeline of one attempt (why the order matters):
 * 1. channel lookup; unknown → `channel_not_found`.
 * 2. idempotency record read: other body → `key_reuse`; completed → the stored result again (X not called);
 *    held by a live lease → wait (never a parallel post).
 * 3. channel status: paused → hold (re-check later, up to `pausedMaxHoldSeconds`); needs_reauth / pending → failed
 *    (settled on the claimed record like every result: stored before it is published, so a key has one result).
 * 4. claim the record (conditional write, lease). A record left by an earlier attempt (crash, timeout) is
 *    taken over only after its lease ended, and then X is asked first whether that attempt got through.
 * 5. text rules, `allowPosts`, media (scope `media.write`, count, source, and a HEAD of each object for
 *    type and size: core/outbound/media.ts) → failed before any X call.
 * 6. rate gate: the endpoint is closed (a 429's reset in `health.notBefore`, or `remaining: 0` in
 *    `health.rateLimits`, per channel and endpoint) → wait until it opens, no X call. Checked before every
 *    X call, the lookup of 4b included. Then the app-wide budget (conditional increment); exhausted → wait.
 * 7. media uploads (v2 chunked; an upload is not a post: it never makes the delivery unknown), the lease
 *    renewed (an upload may outlast it: no write once the record could be someone else's), then the one
 *    write to X; then the record is completed with X's id (or released when X certainly did not act).
 *    A crash after the uploads and before the write leaves media ids nobody uses: X lets them expire
 *    (24 h) and the next delivery uploads again rather than remembering ids (docs/result-codes.md).
 * 8. the channel's health: rate windows seen in X's headers, `sent` / `failed` counters, and `lastError`
 *    for failures an admin must act on (best effort: the result does not depend on it).
 *
 * A 429 stores its reset as `health.notBefore[endpoint]` before the message is delayed, so every later
 * command for the same account (not only this message) waits for the reset too.
 *
 * A crash between 7's answer and the completion leaves an `in_progress` record whose lease runs out; the
 * redelivered message lands in step 4's check at X and reports `sent` with the id found there.
 */
import type { OutboundCommand, ResultMessage } from '../../contracts';
import type { Channel, RateWindow } from '../channel';
import { ChannelError, assertNever, isChannelError, permanent } from '../errors';
import { AuthedWriter } from './authed-writer';
import { lookupEndpoint, MEDIA_INITIALIZE, writeEndpoint } from './endpoints';
import { commandBodyHash } from './fingerprint';
import {
  claimRecord,
  leaveRecord,
  recordStatus,
  renewRecord,
  settleRecord,
  waitForOther,
  type HeldRecord,
  type SendOutcome,
  type SendReason,
} from './idempotency';
import {
  DELIVERY_UNKNOWN,
  type BudgetName,
  type SendHealthPatch,
  type XRateObservation,
  type XWriteResult,
} from './ports';
import { blockedUntil, untilAfter429, windowOf, type EndpointBlock } from './rate-gate';
import { planMedia, type PlannedMedia } from './media';
import { failedResult, sentResult, toResultCode } from './results';
import { checkText } from './text-rules';
import type { ResultErrorCode } from '../../contracts';
import type { Delivery, SenderDeps, SenderSettings } from './send-types';

export { DEFAULT_SENDER_SETTINGS } from './send-types';
export type { Delivery, SenderDeps, SenderSettings } from './send-types';
export type { SendOutcome, SendReason } from './idempotency';

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/** What one processing of a command learned for the channel's health. */
interface Trace {
  channel: Channel | null;
  /** Rate windows from the headers of this attempt's X responses. */
  rateLimits: Record<string, RateWindow>;
}

/** Result codes that are the channel's problem (an admin must act): they become `health.lastError`. */
const CHANNEL_PROBLEMS: ReadonlyMap<ResultErrorCode, string> = new Map([
  ['needs_reauth', 'needs_reauth'],
  ['access_level', 'permanent'],
  ['credits_depleted', 'permanent'],
  ['media_scope_missing', 'needs_reauth'],
] as const);

/** Processes one outbound command. Throws only for unexpected failures (the transport retries those). */
export async function sendCommand(
  deps: SenderDeps,
  command: OutboundCommand,
  delivery: Delivery,
): Promise<SendOutcome> {
  const trace: Trace = { channel: null, rateLimits: {} };
  const outcome = await processCommand(deps, command, delivery, trace);
  await recordHealth(deps, trace, outcome);
  return outcome;
}

/** 8. Best effort: counters and windows are for people and the next call's gate, never for this result. */
async function recordHealth(deps: SenderDeps, trace: Trace, outcome: SendOutcome): Promise<void> {
  const channel = trace.channel;
  if (!channel) return;
  const patch: SendHealthPatch = {};
  if (Object.keys(trace.rateLimits).length) patch.rateLimits = trace.rateLimits;
  // a replay re-reports a result counted when it was first reached
  if (outcome.action === 'result' && outcome.reason !== 'replayed') {
    const r = outcome.result;
    if (r.status === 'sent') {
      patch.counters = { sent: 1 };
      patch.lastSentAt = r.at;
    } else {
      patch.counters = { failed: 1 };
      const kind = CHANNEL_PROBLEMS.get(r.error.code);
      if (kind) patch.lastError = { code: r.error.code, kind, message: r.error.message, at: r.at };
    }
  }
  if (!patch.rateLimits && !patch.counters) return;
  try {
    await deps.health.record(channel.id, patch);
  } catch (error) {
    deps.onEvent?.('health_write_failed', { channelId: channel.id, errorName: (error as Error)?.name });
  }
}

async function processCommand(
  deps: SenderDeps,
  command: OutboundCommand,
  delivery: Delivery,
  trace: Trace,
): Promise<SendOutcome> {
  const s = deps.settings;
  const now = deps.clock.now();
  const lastReceive = delivery.receiveCount >= s.maxReceiveCount;
  const ref = { idempotencyKey: command.idempotencyKey, channelId: command.channelId };
  const event = (name: string, fields: Record<string, unknown> = {}) =>
    deps.onEvent?.(name, { channelId: command.channelId, kind: command.kind, ...fields });
  const fail = (code: ResultErrorCode, message: string, retryable?: boolean): ResultMessage =>
    failedResult(ref, code, message, deps.clock.now(), retryable);
  const result = (r: ResultMessage, reason: SendReason): SendOutcome => ({
    action: 'result',
    result: r,
    reason,
  });

  // 1. channel
  const channel = await deps.channels.get(command.channelId);
  if (!channel) {
    return result(
      fail('channel_not_found', 'no channel with this id (deleted or never created)'),
      'channel_not_found',
    );
  }
  trace.channel = channel;

  // 2. idempotency record
  const bodyHash = commandBodyHash(command);
  const existing = await deps.idempotency.get(command.channelId, command.idempotencyKey);
  if (existing && existing.bodyHash !== bodyHash) {
    return result(
      fail(
        'key_reuse',
        'idempotencyKey was already used for a different command on this channel; nothing was sent',
      ),
      'key_reuse',
    );
  }
  const stored = recordStatus(existing, now);
  if (stored.status === 'completed') return result(stored.result, 'replayed');
  // Another delivery of this command is talking to X right now: never a parallel post.
  if (stored.status === 'in_flight')
    return waitForOther('in_flight_elsewhere', seconds(stored.leaseLeftMs) + 1, lastReceive);

  // 3. channel status
  const notReady = channelGate(channel, delivery, now, s, lastReceive);
  if (notReady?.action === 'retry') return notReady;

  // 4. claim (a lost race with another delivery of the same key: look again once its lease could have ended)
  const held = await claimRecord(deps.idempotency, {
    channelId: command.channelId,
    key: command.idempotencyKey,
    bodyHash,
    owner: deps.newAttemptId(),
    now,
    leaseSeconds: s.leaseSeconds,
    previous: stored.status === 'abandoned' ? stored.record : null,
  });
  if (!held) return waitForOther('claim_lost', s.leaseSeconds, lastReceive);
  const attempt = new Attempt({ deps, command, channel, delivery, lastReceive, event, trace }, held);
  // A channel that cannot send still settles on the claimed record, so every delivery reports one stored result.
  if (notReady) return attempt.settle(fail(notReady.code, notReady.message), notReady.code);
  return attempt.run();
}

type Gate =
  | { action: 'retry'; delaySeconds: number; reason: 'channel_paused' }
  | { action: 'fail'; code: ResultErrorCode; message: string };

function channelGate(
  channel: Channel,
  delivery: Delivery,
  now: Date,
  s: SenderSettings,
  lastReceive: boolean,
): Gate | null {
  switch (channel.status) {
    case 'active':
    case 'degraded':
      if (!channel.account)
        return {
          action: 'fail',
          code: 'channel_not_ready',
          message: 'the channel has no signed-in X account',
        };
      return null;
    case 'paused': {
      const heldMs = now.getTime() - delivery.sentAt.getTime();
      const leftMs = s.pausedMaxHoldSeconds * 1000 - heldMs;
      if (leftMs <= 0 || lastReceive) {
        return {
          action: 'fail',
          code: 'channel_not_ready',
          message: `the channel is paused; the command was held ${Math.round(heldMs / 60000)} min and not sent`,
        };
      }
      return {
        action: 'retry',
        delaySeconds: Math.min(s.pausedRecheckSeconds, seconds(leftMs)),
        reason: 'channel_paused',
      };
    }
    case 'needs_reauth':
      return {
        action: 'fail',
        code: 'needs_reauth',
        message: "X refused the channel's tokens: an admin must sign in with X again",
      };
    case 'pending_auth':
      return {
        action: 'fail',
        code: 'channel_not_ready',
        message: 'the channel has not been signed in with X yet',
      };
    default:
      return assertNever(channel.status);
  }
}

/** What one processing of a command knows before it claims the record. */
interface AttemptScope {
  deps: SenderDeps;
  command: OutboundCommand;
  channel: Channel;
  delivery: Delivery;
  lastReceive: boolean;
  event: (name: string, fields?: Record<string, unknown>) => void;
  trace: Trace;
}

/** One claimed attempt: the work between claim and settle/leave; every ending goes through the record it holds. */
class Attempt {
  private readonly deps: SenderDeps;
  private readonly command: OutboundCommand;
  private readonly channel: Channel;
  private readonly x: AuthedWriter;
  private budgetTaken: { name: BudgetName; window: string } | null = null;

  constructor(
    private readonly scope: AttemptScope,
    private readonly held: HeldRecord,
  ) {
    ({ deps: this.deps, command: this.command, channel: this.channel } = scope);
    this.x = new AuthedWriter(scope.deps, scope.command.channelId, scope.event, this.observe);
  }

  private event(name: string, fields?: Record<string, unknown>) {
    this.scope.event(name, fields);
  }

  private get ref() {
    return { idempotencyKey: this.command.idempotencyKey, channelId: this.command.channelId };
  }

  private fail(code: ResultErrorCode, message: string, retryable?: boolean): ResultMessage {
    return failedResult(this.ref, code, message, this.deps.clock.now(), retryable);
  }

  async run(): Promise<SendOutcome> {
    try {
      return await this.steps();
    } catch (error) {
      return this.onError(error);
    }
  }

  private async steps(): Promise<SendOutcome> {
    const { command, channel } = this;
    const account = channel.account!;
    const targetId = 'targetId' in command ? command.targetId : undefined;

    // 4b. an earlier attempt may have reached X: look before posting anything.
    const previous = this.held.previous;
    if (previous) {
      const since = new Date(previous.attemptStartedAt);
      const readEndpoint = lookupEndpoint(command.kind, targetId);
      const closed = this.gate(readEndpoint);
      if (closed) return this.waitForWindow(closed);
      const earlier = await this.x.call(readEndpoint, (w) =>
        w.findEarlierDelivery({
          accountId: account.id,
          kind: command.kind,
          targetId,
          text: command.text,
          since,
        }),
      );
      this.event('earlier_delivery_checked', { status: earlier.status });
      if (earlier.status === 'found')
        return this.settle(sentResult(this.ref, earlier.xId, this.deps.clock.now()), 'recovered');
      if (earlier.status === 'unknown') {
        return this.settle(
          this.fail(
            'unknown_delivery_state',
            `an earlier attempt may have been delivered and X cannot tell (${earlier.reason}); not sent again to avoid a duplicate`,
          ),
          'unknown_delivery_state',
        );
      }
      this.held.mayHaveActed = false;
    }

    // 5. rules checked before any write
    if (command.kind === 'post' && !channel.options.allowPosts) {
      return this.settle(
        this.fail(
          'post_not_allowed',
          'kind: plain posts are turned off for this channel (options.allowPosts)',
        ),
        'post_not_allowed',
      );
    }
    checkText(command.kind, command.text);
    const media = await this.planMedia();

    // 6. the rate gate (the upload endpoints too when there is media), then the app-wide budget
    const endpoint = writeEndpoint(command.kind, targetId);
    const closed = this.gate(endpoint) ?? (media.length ? this.gate(MEDIA_INITIALIZE) : null);
    if (closed) return this.waitForWindow(closed);
    // the monthly X spend budget: used up → failed, until the month rolls or the budget rises
    const spend = await this.deps.spendBudget?.check(channel.id, this.deps.clock.now());
    if (spend?.exhausted) {
      this.event('spend_budget_exhausted');
      return this.settle(
        this.fail('budget_exhausted', `${spend.exhausted}; not sent`, false),
        'budget_exhausted',
      );
    }
    const budgetName: BudgetName = command.kind === 'dm' ? 'dm' : 'post';
    const take = await this.deps.budget.take(budgetName, this.deps.clock.now());
    if (!take.ok) {
      const delayMs = take.retryAt.getTime() - this.deps.clock.now().getTime();
      this.event('budget_exhausted', { budget: budgetName, retryAt: take.retryAt.toISOString() });
      return this.retry(
        seconds(delayMs),
        'budget_exhausted',
        this.fail(
          'rate_limited',
          `the app-wide X ${budgetName === 'dm' ? 'DM' : 'post'} budget for 24 h is used up; not sent`,
        ),
      );
    }
    this.budgetTaken = { name: budgetName, window: take.window };

    // 7. media uploads, the lease renewed, then the one write
    const mediaIds = await this.upload(media);
    if (media.length && !(await this.stillHeld())) {
      await this.refundBudget();
      this.event('lease_lost_before_write');
      return waitForOther('claim_lost', this.deps.settings.leaseSeconds, this.scope.lastReceive);
    }
    const answer: XWriteResult = await this.x.call(endpoint, (w) => {
      switch (command.kind) {
        case 'reply':
          return w.reply(command.text, command.targetId, mediaIds);
        case 'post':
          return w.post(command.text, mediaIds);
        case 'dm':
          return w.sendDm(command.targetId, command.text, mediaIds[0]);
        default:
          return assertNever(command);
      }
    });
    this.held.mayHaveActed = true;
    return this.settle(sentResult(this.ref, answer.xId, this.deps.clock.now()), 'sent');
  }

  /** 5. The command's media checked (scope, count, source, type, size) and planned; none → []. */
  private async planMedia(): Promise<PlannedMedia[]> {
    const urls = this.command.mediaUrls ?? [];
    if (!urls.length) return [];
    const scopes = this.channel.scopes ?? [];
    // A channel signed in before media.write was requested: X would answer 403 (X-API.md §9).
    // (No scopes recorded at all: unknown, so X is asked and its 403 tells.)
    if (scopes.length && !scopes.includes('media.write')) {
      throw permanent(
        'media_scope_missing',
        'mediaUrls: the channel was signed in without media.write; an admin must sign in with X again',
      );
    }
    return planMedia(this.command.kind, urls, this.deps.media.policy, this.deps.media.source);
  }

  /** 7a. Uploads each media item (chunked, video polled until processed): X's media ids, in order. */
  private async upload(media: readonly PlannedMedia[]): Promise<string[]> {
    const ids: string[] = [];
    for (const m of media) {
      const { mediaId } = await this.x.call(MEDIA_INITIALIZE, (w) =>
        w.uploadMedia({
          mediaType: m.mediaType,
          category: m.category,
          totalBytes: m.totalBytes,
          read: (start, end) => this.deps.media.source.read(m.ref, start, end),
        }),
      );
      ids.push(mediaId);
    }
    if (ids.length) this.event('media_uploaded', { count: ids.length });
    return ids;
  }

  /** Whether this attempt still holds the record (its lease renewed), so the one write may go out. */
  private stillHeld(): Promise<boolean> {
    return renewRecord(
      this.deps.idempotency,
      this.held,
      this.deps.clock.now(),
      this.deps.settings.leaseSeconds,
    );
  }

  /** Every response's `x-rate-limit-*` headers, for the channel's health and this attempt's later gates. */
  private readonly observe = (o: XRateObservation) => {
    this.scope.trace.rateLimits[o.endpoint] = windowOf(o);
  };

  /** Whether `endpoint` (or one sharing its window) is closed for this channel right now. */
  private gate(endpoint: string): EndpointBlock | null {
    const now = this.deps.clock.now();
    const health = this.channel.health;
    return blockedUntil(
      { rateLimits: { ...health?.rateLimits, ...this.scope.trace.rateLimits }, notBefore: health?.notBefore },
      endpoint,
      now,
      this.deps.recentBlocks.of(this.channel.id, now),
    );
  }

  /** Waits for a closed window exactly like after a 429: the message is delayed, X is not called. */
  private waitForWindow(block: EndpointBlock): Promise<SendOutcome> {
    const until = block.until.toISOString();
    this.event('rate_window_closed', { endpoint: block.endpoint, until, reason: block.reason });
    return this.retry(
      seconds(block.until.getTime() - this.deps.clock.now().getTime()),
      block.reason,
      this.fail(
        'rate_limited',
        `X's rate limit for this account (${block.endpoint}) stayed reached until the retries ran out; not sent`,
      ),
    );
  }

  /** Closes `endpoint` for the channel until `until`: in memory at once, then on the channel item. */
  private async closeEndpoint(endpoint: string, until: Date): Promise<void> {
    this.deps.recentBlocks.remember(this.channel.id, endpoint, until);
    try {
      await this.deps.health.block(this.channel.id, endpoint, until);
    } catch (error) {
      this.event('rate_block_write_failed', { endpoint, errorName: (error as Error)?.name });
    }
  }

  private async onError(error: unknown): Promise<SendOutcome> {
    if (!isChannelError(error)) {
      this.event('unexpected_error', { errorName: (error as Error)?.name });
      return this.retry(
        this.backoff(),
        'internal',
        this.fail('internal', 'unexpected internal error; see the sender logs'),
      );
    }
    if (error.code === DELIVERY_UNKNOWN) this.held.mayHaveActed = true;
    else await this.refundBudget();
    this.event('send_error', { code: error.code, errorKind: error.kind });
    switch (error.kind) {
      case 'retryable': {
        if (error.code === 'rate_limited') {
          const now = this.deps.clock.now();
          const until = untilAfter429(error.notBefore, now, this.deps.settings.rateLimitFallbackSeconds);
          // Every later command for this account and endpoint waits too, not only this message.
          if (this.x.calling) await this.closeEndpoint(this.x.calling, until);
          return this.retry(
            Math.min(this.deps.settings.maxDelaySeconds, seconds(until.getTime() - now.getTime())),
            'rate_limited',
            this.fail('rate_limited', 'X kept answering 429 (rate limit) until the retries ran out'),
          );
        }
        const code = toResultCode(error.code);
        return this.retry(
          this.backoff(),
          error.code,
          this.fail(
            code === 'internal' ? 'internal' : 'x_unavailable',
            `${error.message}; gave up after ${this.scope.delivery.receiveCount} attempts`,
            true,
          ),
        );
      }
      case 'needs_reauth':
        await this.markChannelNeedsReauth();
        return this.settle(
          this.fail('needs_reauth', "X refused the channel's tokens: an admin must sign in with X again"),
          'needs_reauth',
        );
      case 'permanent':
      case 'invalid_input':
        return this.settle(this.fail(toResultCode(error.code), error.message), error.code);
      default:
        return assertNever(error.kind);
    }
  }

  private backoff(): number {
    const s = this.deps.settings;
    return Math.min(
      s.backoffMaxSeconds,
      s.backoffBaseSeconds * 2 ** Math.max(0, this.scope.delivery.receiveCount - 1),
    );
  }

  /** Ends the attempt with a result stored on the record (see `settleRecord`). */
  settle(result: ResultMessage, reason: SendReason): Promise<SendOutcome> {
    return settleRecord(this.deps.idempotency, this.held, result, reason, {
      lastReceive: this.scope.lastReceive,
      leaseSeconds: this.deps.settings.leaseSeconds,
      onLost: (lost) => this.event('completion_lost', { reason: lost }),
    });
  }

  /** Waits (visibility delay) — or, on the queue's last receive, reports `giveUp` instead of vanishing into the DLQ. */
  private async retry(delaySeconds: number, reason: SendReason, giveUp: ResultMessage): Promise<SendOutcome> {
    if (this.scope.lastReceive) return this.settle(giveUp, reason);
    await leaveRecord(this.deps.idempotency, this.held, this.deps.clock.now());
    return {
      action: 'retry',
      delaySeconds: Math.min(delaySeconds, this.deps.settings.maxDelaySeconds),
      reason,
    };
  }

  private async refundBudget(): Promise<void> {
    if (!this.budgetTaken) return;
    const taken = this.budgetTaken;
    this.budgetTaken = null;
    await this.deps.budget.refund(taken.name, taken.window).catch(() => this.event('budget_refund_failed'));
  }

  /** Best effort: the result already says `needs_reauth`; the channel status makes the admin console say it too. */
  private async markChannelNeedsReauth(): Promise<void> {
    const change = {
      status: 'needs_reauth' as const,
      statusReason: 'X refused the access token while sending; sign in with X again',
    };
    try {
      try {
        await this.deps.channels.update(this.channel.id, this.channel.version, change);
      } catch (error) {
        if (!(error instanceof ChannelError && error.code === 'conflict')) throw error;
        const fresh = await this.deps.channels.get(this.channel.id);
        if (fresh && fresh.status !== 'needs_reauth')
          await this.deps.channels.update(fresh.id, fresh.version, change);
      }
      this.event('channel_marked_needs_reauth');
    } catch (error) {
      this.event('channel_mark_failed', { errorName: (error as Error)?.name });
    }
  }
}
