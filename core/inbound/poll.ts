/**
 * The poll of one channel: read new mentions and DM events from X, publish them to the inbound
 * queue, and only then move the checkpoints (DESIGN.md "Nothing lost, nothing doubled").
 *
 * Timeline of one stream (mentions, then DMs, each on its own):
 * ```
 * read checkpoint C ─> page X newest-first down to C ─> publish oldest-first (every entry acked)
 *                  ─> conditional write C → C' (condition: checkpoint still equals C)
 * ```
 * - crash before the write: the next run reads from C again; the republished messages carry the
 *   same FIFO MessageDeduplicationId (`<channelId>:x:tweet:<id>`), so within SQS's 5-minute window
 *   they are dropped, and the case system dedups by (`channelId`, `id`) anyway;
 * - crash after the write: C' is durable, the job is redelivered and reads nothing new.
 *
 * Bounded runs without gaps: the scans (mention-scan.ts, dm-scan.ts) read at most `maxMentionPages` /
 * `maxDmPages` pages and remember what lies between the part they delivered and C as a *backlog* next
 * to C; test/property/checkpoint-order.test.ts holds them to "a checkpoint never passes an undelivered item".
 *
 * Over ~500 lines on purpose: `PollRun` is one run's state (rate windows, blocks, errors, staged
 * messages, checkpoints) shared by the streams, their error classification and the one final write;
 * split further, each part would take most of that state as parameters.
 *
 * Fixed cost of a poll, kept small because 1,000 channels mean 1,000 polls a minute:
 * ```
 * claim (conditional UpdateItem, returns the channel) ─> token (in-memory cache) ─> X reads (only
 * the endpoints due) ─> ONE publish of both streams ─> ONE conditional UpdateItem: checkpoints +
 * health + next poll time + end of the claim
 * ```
 * The claim is the poll lease: it moves the channel's `gsi1sk` from the value the dispatcher saw (the
 * job's `dueAt`) to the lease expiry, so a duplicate job (overlapping tick, retried dispatcher,
 * redelivery) is refused by that one request and never reaches X. A job without `dueAt` (the API's
 * first poll, an old message) costs one read first: a channel whose `gsi1sk` is after the job's tick
 * was polled since, and is skipped.
 */
import { isPollable, type Channel, type ChannelCheckpoints, type RateWindow } from '../channel';
import { ChannelError, isChannelError, retryable } from '../errors';
import type { ChannelChange } from '../ports';
import type { InboundMessage } from '../../contracts';
import { runAutoFollow } from './auto-follow';
import { backoffMs } from './concurrency';
import { resolveDmMedia } from './dm-media';
import { scanDms } from './dm-scan';
import { scanMentions } from './mention-scan';
import {
  dmToInbound,
  mentionToInbound,
  shouldDeliverDm,
  shouldDeliverMention,
  type MappingContext,
} from './mapping';
import {
  DM_EVENTS_ENDPOINT,
  FOLLOW_ENDPOINT,
  MENTIONS_ENDPOINT,
  TIER_WINDOWS,
  blockAfter429,
  nextCallAt,
  nextPollAt,
  planPollInterval,
  withRealtime,
} from './planner';
import {
  DEFAULT_POLL_LIMITS,
  type PollDeps,
  type PollError,
  type PollJobInput,
  type PollLimits,
  type PollOutcome,
} from './poll-types';
import type { PollIntervals } from './planner';
import type { HealthPatch, PollClaim, RateObservation, XReader } from './types';
import { decideDmRead, type RealtimeProof } from '../realtime/proof';
import { budgetHealthOf, needsBudgetCheck, withBudgetFloor, type BudgetHealth } from '../cost/budget-floor';
import { utcMonth } from '../cost/meter';

export { DEFAULT_POLL_LIMITS } from './poll-types';
export type { PollDeps, PollError, PollJobInput, PollLimits, PollLog, PollOutcome } from './poll-types';

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const defaultToChannelError = (e: unknown): ChannelError =>
  isChannelError(e)
    ? e
    : // the error's name only (e.g. an AWS SDK exception name): never its message, which may echo data
      retryable(
        'internal',
        `unexpected error while polling (${(e as Error)?.name ?? 'unknown'})`,
        undefined,
        e,
      );

/** Thrown inside a run to stop it (needs_reauth): the job is acked, the channel is marked. */
class StopPoll extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/**
 * Polls one channel once. Resolves with what happened; throws only `retryable` errors (transient X
 * or AWS failures past the time budget, a lost checkpoint race) so that SQS retries the job.
 */
export async function pollChannel(deps: PollDeps, job: PollJobInput): Promise<PollOutcome> {
  const empty: PollOutcome = {
    status: 'skipped',
    mentionsDelivered: 0,
    dmsDelivered: 0,
    followed: 0,
    errors: [],
    degraded: false,
  };
  const limits = { ...DEFAULT_POLL_LIMITS, ...deps.limits };
  const now = deps.clock.now();
  const tickMs = job.tick ? Date.parse(job.tick) : Number.NaN;
  // a tick from the future (clock skew) or none at all: plan from now
  const tick = Number.isFinite(tickMs) && tickMs <= now.getTime() ? new Date(tickMs) : now;
  let seenDueAt = job.dueAt;
  if (!seenDueAt) {
    const peek = await deps.state.peekDue(job.channelId);
    if (!peek) return { ...empty, reason: 'channel_not_found' };
    if (peek.dueAt === null) return { ...empty, reason: 'not_pollable' };
    if (Date.parse(peek.dueAt) > tick.getTime() && peek.owner !== job.owner) {
      // polled (or claimed) after this job's tick: a duplicate, or a job the schedule already replaced
      return { ...empty, reason: peek.owner ? 'lease_held' : 'not_due' };
    }
    seenDueAt = peek.dueAt;
  }
  // before the claim, so that the channel record read by the claim reflects every reconciliation the
  // proof counts (core/realtime/proof.ts); a failed read proves nothing
  const proof = deps.realtime?.proof ? await deps.realtime.proof.read().catch(() => null) : null;
  const claim = await deps.state.claimPoll(job.channelId, {
    owner: job.owner,
    seenDueAt,
    leaseUntil: new Date(now.getTime() + limits.leaseMs).toISOString(),
  });
  if ('refused' in claim) return { ...empty, reason: claim.refused };
  const channel = claim.channel;
  if (!isPollable(channel) || !channel.account) {
    await deps.state.releasePoll(channel.id, job.owner, claim.dueAt);
    return { ...empty, reason: 'not_pollable' };
  }
  // beside the poll: re-create subscriptions reconciliation found missing (core/realtime/subscriptions.ts)
  const repair = deps.realtime?.repair?.(channel).catch(() => undefined);
  try {
    return await new PollRun(deps, limits, claim, job.owner, tick, proof).run();
  } catch (e) {
    // hand the claim back so that the redelivered job (or the next tick) polls again at once
    await deps.state.releasePoll(channel.id, job.owner, claim.dueAt).catch(() => undefined);
    throw e;
  } finally {
    await repair;
  }
}

class PollRun {
  private readonly now: Date;
  private readonly nowIso: string;
  private readonly deadline: number;
  private readonly rateLimits: Record<string, RateWindow>;
  private readonly notBefore: Record<string, string>;
  /** 429 blocks `blockEndpoint` already stored, per endpoint (not repeated by the final write). */
  private readonly blockStored = new Map<string, string>();
  private readonly errors: PollError[] = [];
  private readonly toChannelError: (e: unknown) => ChannelError;
  private checkpoints: ChannelCheckpoints;
  private channel: Channel;
  private x!: XReader;
  private refreshed = false;
  private lastError: HealthPatch['lastError'] = undefined;
  private failure: ChannelError | undefined;
  private delivered = { mentions: 0, dms: 0, followed: 0, attachmentsStored: 0, attachmentsUnavailable: 0 };
  private recovered: Array<'mentions' | 'dms'> = [];
  /** Checkpoints as claimed: the final write is conditional on them. */
  private readonly claimedCheckpoints: ChannelCheckpoints;
  /** Messages read in this run, published together before the one checkpoint write. */
  private pending: InboundMessage[] = [];
  private readonly channel0: Channel;
  /** `gsi1sk` before the claim: where a failed poll puts it back. */
  private readonly claimDueAt: string;
  /** The budget's verdict when this run re-read it (written with the final write). */
  private budgetChecked: BudgetHealth | undefined;

  constructor(
    private readonly deps: PollDeps,
    private readonly limits: PollLimits,
    claim: PollClaim,
    private readonly owner: string,
    private readonly tick: Date,
    private readonly proof: RealtimeProof | null = null,
  ) {
    const channel = claim.channel;
    this.channel = channel;
    this.channel0 = channel;
    this.claimDueAt = claim.dueAt;
    this.now = deps.clock.now();
    this.nowIso = this.now.toISOString();
    this.deadline = this.now.getTime() + limits.timeBudgetMs;
    this.rateLimits = { ...(channel.health?.rateLimits ?? {}) };
    this.notBefore = { ...(channel.health?.notBefore ?? {}) };
    // a block this process saw but could not store (the poll that met the 429 lost every AWS write)
    // counts like a stored one, and this poll's final write stores it
    for (const [endpoint, until] of Object.entries(deps.rateBlocks?.active(channel.id, this.now) ?? {})) {
      const held = this.notBefore[endpoint];
      if (!held || Date.parse(held) < Date.parse(until)) this.notBefore[endpoint] = until;
    }
    this.checkpoints = {
      mentionsSinceId: null,
      dmEventId: null,
      dmCreatedAt: null,
      // older records may lack some fields; the conditional write treats missing as null
      ...(channel.checkpoints as Partial<ChannelCheckpoints> | undefined),
    };
    this.claimedCheckpoints = this.checkpoints;
    this.toChannelError = deps.toChannelError ?? defaultToChannelError;
  }

  private get account() {
    return this.channel.account!;
  }

  private due(endpoint: string): boolean {
    const nb = this.notBefore[endpoint];
    return !nb || Date.parse(nb) <= this.now.getTime();
  }

  private observe = (o: RateObservation) => {
    this.rateLimits[o.endpoint] = {
      limit: o.limit,
      remaining: o.remaining,
      resetAt: new Date(o.reset * 1000).toISOString(),
    };
  };

  /** Where a first poll starts: sign-in time minus the backfill window. */
  private startTime(): string {
    const connected = Date.parse(this.channel.connectedAt ?? this.channel.createdAt);
    const backfillMs = (this.channel.options?.backfillHours ?? 0) * 3600_000;
    return new Date(connected - backfillMs).toISOString();
  }

  async run(): Promise<PollOutcome> {
    // streams that arrive by webhook are only reconciled, slowly (planner.ts `withRealtime`)
    const realtime = this.deps.realtime ? this.channel.realtime : undefined;
    // a used-up monthly X budget slows reconciliation to its floor (core/cost/budget-floor.ts)
    const budget = await this.checkBudget();
    const intervals = withBudgetFloor(
      withRealtime(planPollInterval(TIER_WINDOWS[this.deps.tier]), realtime, this.deps.realtime?.cadence),
      budget,
      this.deps.budget?.floor ?? { mentionsSeconds: 0, dmsSeconds: 0 },
    );
    // a feature X refused (health.disabled) is retried only after its back-off in `notBefore`
    const mentionsOn = this.channel.listenMentions;
    const dmsOn = this.channel.listenDms && intervals.dmsSeconds !== null;
    const mentionsDue = mentionsOn && this.due(MENTIONS_ENDPOINT);
    let dmsDue = dmsOn && this.due(DM_EVENTS_ENDPOINT);
    if (dmsDue && this.planDms(intervals.dmsSeconds!)) dmsDue = false;

    if (mentionsDue || dmsDue) {
      try {
        const token = await this.deps.tokens.getValidAccessToken(this.channel.id);
        this.x = this.deps.openX(token, this.observe);
        if (mentionsDue)
          await this.stream(MENTIONS_ENDPOINT, () => this.pollMentions(), intervals.mentionsSeconds!);
        // re-checked: a billing error on mentions pushes every endpoint back
        if (dmsDue && this.due(DM_EVENTS_ENDPOINT)) {
          await this.stream(DM_EVENTS_ENDPOINT, () => this.pollDms(), intervals.dmsSeconds!);
        }
      } catch (e) {
        if (e instanceof StopPoll) return this.finish(intervals, e.reason);
        const error = this.toChannelError(e);
        if (error.kind === 'needs_reauth') {
          await this.markNeedsReauth(error);
          return this.finish(intervals, 'needs_reauth');
        }
        throw error;
      }
    }
    return this.finish(intervals);
  }

  /**
   * The budget's verdict: the stored one, re-read (one request) when it is stale or `exhausted` and the
   * poll may call X or lift the floor. A budget that recovered lifts the floor's `notBefore` (due now).
   * A failed read keeps the stored verdict: budgets never fail a poll.
   */
  private async checkBudget(): Promise<BudgetHealth | null> {
    const b = this.deps.budget;
    const stored = this.channel.health?.budget ?? null;
    if (!b || !needsBudgetCheck(stored, this.now, b.checkSeconds)) return stored;
    const anyDue =
      (this.channel.listenMentions && this.due(MENTIONS_ENDPOINT)) ||
      (this.channel.listenDms && this.due(DM_EVENTS_ENDPOINT));
    if (!anyDue && stored?.state !== 'exhausted') return stored;
    let fresh: BudgetHealth;
    try {
      fresh = budgetHealthOf(await b.read(this.channel.id, utcMonth(this.now)), this.now, b.floor);
    } catch (e) {
      this.deps.log?.warn('budget not checked; the last verdict holds', {
        channelId: this.channel.id,
        errorName: (e as Error)?.name,
      });
      return stored;
    }
    if (stored?.state === 'exhausted' && fresh.state !== 'exhausted') {
      for (const [ep, until] of Object.entries(stored.floorUntil ?? {}))
        if (this.notBefore[ep] === until) this.notBefore[ep] = this.nowIso;
    }
    if ((stored?.state ?? 'none') !== fresh.state)
      this.deps.log?.info('budget state changed', {
        channelId: this.channel.id,
        from: stored?.state ?? null,
        to: fresh.state,
        reasonCode: fresh.reasonCode,
      });
    this.budgetChecked = fresh;
    return fresh;
  }

  /** Where DM reads stop (`dmCoveredTo`, or the real-time proof): set by `planDms`. */
  private dmFloor: string | null = null;

  /**
   * A due DM poll of a channel whose DMs arrive by webhook: when the proof (core/realtime/proof.ts)
   * shows every DM delivered up to a fresh time, nothing is read — the floor moves there and the
   * stream is planned as if polled. True when the read is skipped.
   */
  private planDms(intervalSeconds: number): boolean {
    const cp = this.checkpoints;
    this.dmFloor = cp.dmCoveredTo ?? null;
    if (!this.deps.realtime?.proof || !this.channel.realtime?.dms) return false;
    const plan = decideDmRead({
      proof: this.proof,
      subscription: this.channel.realtime.subscriptions.find((s) => s.eventType === 'dm.received'),
      checkpointAt: cp.dmEventId && cp.dmCreatedAt ? cp.dmCreatedAt : this.startTime(),
      coveredTo: cp.dmCoveredTo,
      hold: cp.dmHold,
      now: this.now,
      freshMs: intervalSeconds * 1000,
    });
    this.dmFloor = plan.floor;
    if (!plan.skip) return false;
    if (plan.floor !== (cp.dmCoveredTo ?? null)) this.checkpoints = { ...cp, dmCoveredTo: plan.floor };
    this.notBefore[DM_EVENTS_ENDPOINT] = nextCallAt(
      this.now,
      intervalSeconds,
      this.rateLimits[DM_EVENTS_ENDPOINT],
      this.tick,
    ).toISOString();
    return true;
  }

  /** Runs one stream; classifies its error per X-API.md §5 without stopping the other stream. */
  private async stream(endpoint: string, body: () => Promise<void>, intervalSeconds: number): Promise<void> {
    try {
      await body();
      this.notBefore[endpoint] = nextCallAt(
        this.now,
        intervalSeconds,
        this.rateLimits[endpoint],
        this.tick,
      ).toISOString();
      this.recovered.push(endpoint === MENTIONS_ENDPOINT ? 'mentions' : 'dms');
    } catch (e) {
      if (e instanceof StopPoll) throw e;
      const error = this.toChannelError(e);
      if (error.kind === 'needs_reauth') throw error;
      await this.handleStreamError(endpoint, error);
    }
  }

  private recordError(endpoint: string, error: ChannelError) {
    this.errors.push({ endpoint, code: error.code, kind: error.kind });
    this.lastError = { code: error.code, kind: error.kind, message: error.message, at: this.nowIso };
    this.deps.log?.warn('poll error', {
      channelId: this.channel.id,
      endpoint,
      // `errorCode`, not `code`: the shared logger masks a bare `code` key (OAuth authorization codes)
      errorCode: error.code,
      kind: error.kind,
      reason: error.message,
    });
  }

  private async handleStreamError(endpoint: string, error: ChannelError) {
    this.recordError(endpoint, error);
    const later = (ms: number) => new Date(this.now.getTime() + ms).toISOString();
    const feature = endpoint === MENTIONS_ENDPOINT ? 'mentions' : 'dms';
    switch (error.kind) {
      case 'retryable':
        if (error.code === 'rate_limited') {
          // never call this endpoint again before X's reset, whatever happens to the rest of the poll
          await this.block(endpoint, error.notBefore);
          return;
        }
        // transient past the time budget, or a lost checkpoint race: the job fails and SQS retries it;
        // `notBefore` stays as it was so that the retry may read again at once
        this.failure ??= error;
        return;
      case 'permanent':
        if (error.code === 'credits_depleted') {
          for (const ep of [MENTIONS_ENDPOINT, DM_EVENTS_ENDPOINT])
            this.notBefore[ep] = later(this.limits.billingRetryMs);
          await this.changeChannel({ status: 'degraded', statusReason: error.message });
          return;
        }
        if (error.code === 'access_level') {
          this.notBefore[endpoint] = later(this.limits.accessRetryMs);
          await this.changeChannel({
            status: 'degraded',
            statusReason: error.message,
            disabled: { [feature]: `${error.message} (${endpoint})` },
          });
          return;
        }
        this.notBefore[endpoint] = later(this.limits.billingRetryMs);
        return;
      case 'invalid_input':
        this.notBefore[endpoint] = later(this.limits.billingRetryMs);
        return;
      case 'needs_reauth':
        throw error;
      default: {
        const never: never = error.kind;
        throw new Error(`unexpected error kind ${String(never)}`);
      }
    }
  }

  /**
   * After a 429: `notBefore` for the endpoint, stored AT ONCE and not only with the final write. That
   * write is dropped when the poll crashes before it, when the publish fails, or when it loses the
   * checkpoint race; the redelivered job (or the next tick) would then read the old `notBefore` and
   * call X inside the 429 window (DESIGN.md: never call again after a 429 before its reset).
   */
  private async block(endpoint: string, reset: Date | undefined) {
    const until = blockAfter429(reset, this.now).toISOString();
    const held = this.notBefore[endpoint];
    if (!held || held < until) this.notBefore[endpoint] = until;
    // first in memory: the write below can fail with every other AWS call of this invocation
    this.deps.rateBlocks?.note(this.channel.id, endpoint, new Date(this.notBefore[endpoint]));
    try {
      await this.deps.state.blockEndpoint(this.channel.id, endpoint, this.notBefore[endpoint]);
      // stored: the final write leaves this entry alone, so it never moves a later block (stored
      // meanwhile by another writer) back to ours
      this.blockStored.set(endpoint, this.notBefore[endpoint]);
    } catch (e) {
      // the final write still carries the block; a failed extra write must not fail the poll (a
      // failed poll hands its claim back, which would only bring the next call sooner)
      const error = this.toChannelError(e);
      this.deps.log?.warn('could not store a 429 block now; the end of the poll stores it', {
        channelId: this.channel.id,
        endpoint,
        errorCode: error.code,
        kind: error.kind,
      });
    }
  }

  /** Calls X with one forced token refresh on 401 and back-off + jitter on transient errors. */
  private async callX<T>(fn: (x: XReader) => Promise<T>): Promise<T> {
    const random = this.deps.random ?? Math.random;
    const sleep = this.deps.sleep ?? defaultSleep;
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn(this.x);
      } catch (e) {
        const error = this.toChannelError(e);
        if (error.kind === 'needs_reauth' && !this.refreshed) {
          // X said 401: the token may have been revoked or rotated elsewhere; refresh once, then give up
          this.refreshed = true;
          const token = await this.deps.tokens.getValidAccessToken(this.channel.id, { forceRefresh: true });
          this.x = this.deps.openX(token, this.observe);
          continue;
        }
        const transient =
          error.kind === 'retryable' && error.code !== 'rate_limited' && error.code !== 'conflict';
        const delay = backoffMs(attempt, random);
        if (!transient || attempt >= 3 || this.deps.clock.now().getTime() + delay > this.deadline)
          throw error;
        await sleep(delay);
      }
    }
  }

  private mappingContext(): MappingContext {
    return {
      channelId: this.channel.id,
      account: { id: this.account.id, username: this.account.username },
      receivedAt: this.nowIso,
    };
  }

  private async pollMentions(): Promise<void> {
    const cp = this.checkpoints;
    const scan = await scanMentions(
      (query) => this.callX((x) => x.mentions({ accountId: this.account.id, ...query })),
      {
        checkpoints: cp,
        startTime: this.startTime(),
        maxPages: this.limits.maxMentionPages,
        toChannelError: this.toChannelError,
      },
    );
    const ctx = this.mappingContext();
    const includeReposts = this.channel.options?.includeReposts ?? false;
    const deliver = scan.items
      .filter(({ tweet }) => shouldDeliverMention(tweet, this.account.id, includeReposts))
      .map(({ tweet, includes }) => mentionToInbound(tweet, includes, ctx));
    await this.deliverAndSave(deliver, { ...cp, ...scan.next }, 'mentions');
    // also without new authors: users queued by earlier polls (daily cap) are followed now
    if (this.channel.autoFollow) await this.autoFollow(deliver.map((m) => m.author.id));
    if (scan.stopError) throw scan.stopError;
  }

  private async pollDms(): Promise<void> {
    const cp = this.checkpoints;
    const scan = await scanDms((query) => this.callX((x) => x.dmEvents(query)), {
      checkpoints: cp,
      floor: this.dmFloor,
      hold: cp.dmHold,
      startTime: this.startTime(),
      maxPages: this.limits.maxDmPages,
      idlePageSize:
        this.deps.realtime && this.channel.realtime?.dms
          ? this.deps.realtime.cadence.dmIdlePageSize
          : this.limits.dmIdlePageSize,
      toChannelError: this.toChannelError,
    });
    const ctx = this.mappingContext();
    const deliver = scan.items
      .filter(({ event }) => shouldDeliverDm(event, this.account.id))
      .map(({ event, includes }) => dmToInbound(event, includes, ctx));
    await this.storeDmMedia(deliver);
    const next: ChannelCheckpoints = { ...cp, ...scan.next };
    if (this.dmFloor !== (cp.dmCoveredTo ?? null)) next.dmCoveredTo = this.dmFloor;
    if (scan.complete) {
      // read down to the floor: every DM created before this poll began is delivered (a real-time
      // channel's proof starts from here, core/realtime/proof.ts), and the DM with media too
      if (this.deps.realtime?.proof && this.channel.realtime?.dms) next.dmCoveredTo = this.nowIso;
      if (cp.dmHold) next.dmHold = null;
    }
    await this.deliverAndSave(deliver, next, 'dms');
    if (scan.stopError) throw scan.stopError;
    if (scan.overflow) throw scan.overflow;
  }

  /**
   * DM attachments into the media bucket (./dm-media.ts): each downloaded with this poll's token through
   * `callX` (retries, one forced refresh on 401), bounded by MEDIA_MAX_BYTES and by the shorter of
   * MEDIA_DOWNLOAD_TIMEOUT_MS and what is left of the poll's time budget. A failed one is delivered
   * unavailable (never holds the text back) and counted in health.
   */
  private async storeDmMedia(messages: InboundMessage[]) {
    if (!messages.some((m) => m.attachments.length)) return;
    const media = this.deps.media;
    const out = await resolveDmMedia(messages, {
      store: media && this.x.dmMedia ? media.store : undefined,
      download: (ref) =>
        this.callX((x) =>
          x.dmMedia!(ref, {
            maxBytes: media!.maxBytes,
            timeoutMs: Math.max(
              1000,
              Math.min(media!.timeoutMs, this.deadline - this.deps.clock.now().getTime()),
            ),
          }),
        ),
      toChannelError: this.toChannelError,
      onUnavailable: (info) => this.deps.log?.warn('DM attachment delivered unavailable', info),
    });
    this.delivered.attachmentsStored += out.stored;
    this.delivered.attachmentsUnavailable += out.unavailable;
  }

  /**
   * Stages a stream's messages and its next checkpoints. Nothing is written here: `finish` publishes
   * every staged message (each entry acked) and only then moves the checkpoints, in one write.
   */
  private async deliverAndSave(
    messages: InboundMessage[],
    next: ChannelCheckpoints,
    stream: 'mentions' | 'dms',
  ) {
    this.pending.push(...messages);
    this.checkpoints = next;
    if (stream === 'mentions') this.delivered.mentions += messages.length;
    else this.delivered.dms += messages.length;
  }

  private async autoFollow(authorIds: string[]) {
    const follows = this.deps.follows;
    if (!follows || this.channel.health?.disabled?.autoFollow || !this.due(FOLLOW_ENDPOINT)) return;
    try {
      const out = await runAutoFollow(follows, {
        channelId: this.channel.id,
        accountId: this.account.id,
        authorIds,
        x: this.x,
        now: this.now,
        dailyCap: this.limits.followDailyCap,
        toChannelError: this.toChannelError,
      });
      this.delivered.followed += out.followed;
      if (out.error) this.recordError(FOLLOW_ENDPOINT, out.error);
      if (out.error?.code === 'rate_limited') await this.block(FOLLOW_ENDPOINT, out.notBefore);
      else if (out.notBefore) this.notBefore[FOLLOW_ENDPOINT] = out.notBefore.toISOString();
      if (out.disabledReason) await this.changeChannel({ disabled: { autoFollow: out.disabledReason } });
    } catch (e) {
      // follow bookkeeping must never fail a poll whose messages are already delivered
      const error = this.toChannelError(e);
      this.recordError(FOLLOW_ENDPOINT, error);
    }
  }

  /** Admin-visible change (status, disabled reasons): version-conditional, re-read once on a race. */
  private async changeChannel(change: ChannelChange): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        this.channel = await this.deps.channels.update(this.channel.id, this.channel.version, change);
        return;
      } catch (e) {
        if (!(isChannelError(e) && e.code === 'conflict')) throw e;
        const fresh = await this.deps.channels.get(this.channel.id);
        if (!fresh) throw new StopPoll('channel_not_found');
        // an admin may have paused or re-signed meanwhile: never overwrite those states
        if (change.status && fresh.status !== 'active' && fresh.status !== 'degraded') {
          const { status: _status, statusReason: _reason, ...rest } = change;
          void _status;
          void _reason;
          change = rest;
        }
        this.channel = { ...fresh, account: fresh.account ?? this.channel.account };
      }
    }
  }

  private async markNeedsReauth(error: ChannelError) {
    this.recordError('token', error);
    const fresh = await this.deps.channels.get(this.channel.id);
    if (fresh && fresh.status !== 'needs_reauth') {
      this.channel = { ...fresh, account: fresh.account ?? this.channel.account };
      await this.changeChannel({
        status: 'needs_reauth',
        statusReason: 'X refused the access token even after a refresh: sign in with X again',
      });
    }
  }

  /** After a successful stream of a feature X had refused: clear the reason; back to active if nothing else. */
  private async restoreIfRecovered() {
    const disabled = this.channel.health?.disabled ?? {};
    const clear: Partial<Record<'mentions' | 'dms', null>> = {};
    for (const f of this.recovered) if (disabled[f]) clear[f] = null;
    const stillDisabled = (['mentions', 'dms'] as const).some((f) => disabled[f] && !(f in clear));
    const change: ChannelChange = {};
    if (Object.keys(clear).length) change.disabled = clear;
    if (
      this.channel.status === 'degraded' &&
      !stillDisabled &&
      this.errors.length === 0 &&
      this.recovered.length
    ) {
      change.status = 'active';
      change.statusReason = null;
    }
    if (Object.keys(change).length) await this.changeChannel(change);
  }

  /** The verdict as stored: at the floor, with the `notBefore` the floor set (not a 429's block). */
  private budgetVerdict(verdict: BudgetHealth): BudgetHealth {
    if (verdict.state !== 'exhausted') {
      const { floorUntil: _none, ...rest } = verdict;
      void _none;
      return rest;
    }
    const floorUntil: Record<string, string> = {};
    for (const ep of [MENTIONS_ENDPOINT, DM_EVENTS_ENDPOINT]) {
      const at = this.notBefore[ep];
      if (at && this.blockStored.get(ep) !== at) floorUntil[ep] = at;
    }
    return { ...verdict, floorUntil };
  }

  private async finish(intervals: PollIntervals, skipReason?: string): Promise<PollOutcome> {
    // 1. publish everything read (every entry acked) — only then may the checkpoints move
    let checkpoints = this.checkpoints;
    if (this.pending.length) {
      try {
        await this.deps.publisher.publish(this.pending);
      } catch (e) {
        const error = this.toChannelError(e);
        this.recordError('inbound', error);
        this.failure ??= error;
        // nothing counts as delivered and no checkpoint moves; the streams are due again at once, so
        // the next tick reads the same items again (their dedup ids absorb any that did reach SQS)
        checkpoints = this.claimedCheckpoints;
        this.delivered.mentions = 0;
        this.delivered.dms = 0;
        this.delivered.attachmentsStored = 0;
        this.delivered.attachmentsUnavailable = 0;
        // (only streams that read fine: one that met a 429 keeps its reset)
        for (const stream of this.recovered) {
          const ep = stream === 'mentions' ? MENTIONS_ENDPOINT : DM_EVENTS_ENDPOINT;
          const previous = this.channel0.health?.notBefore?.[ep];
          if (previous === undefined) delete this.notBefore[ep];
          else this.notBefore[ep] = previous;
        }
        this.recovered = [];
      }
    }
    if (!skipReason) await this.restoreIfRecovered();
    const endpointTimes: Array<Date | null> = [];
    const at = (ep: string) => (this.notBefore[ep] ? new Date(this.notBefore[ep]) : this.now);
    if (this.channel.listenMentions) endpointTimes.push(at(MENTIONS_ENDPOINT));
    if (this.channel.listenDms && intervals.dmsSeconds !== null) endpointTimes.push(at(DM_EVENTS_ENDPOINT));
    const next = nextPollAt(this.now, endpointTimes).toISOString();
    // 2. one write: checkpoints (conditional), what changed in health, the next poll, the claim's end
    const health: HealthPatch = { lastPollAt: this.nowIso, nextPollAt: next };
    if (this.errors.length === 0 && !skipReason) health.lastSuccessAt = this.nowIso;
    if (this.lastError) health.lastError = this.lastError;
    const before = this.channel0.health;
    const rateLimits = changedEntries(before?.rateLimits, this.rateLimits);
    if (rateLimits) health.rateLimits = rateLimits;
    const notBefore = changedEntries(
      before?.notBefore,
      Object.fromEntries(
        Object.entries(this.notBefore).filter(([ep, at]) => this.blockStored.get(ep) !== at),
      ),
    );
    if (notBefore) health.notBefore = notBefore;
    if (this.budgetChecked) health.budget = this.budgetVerdict(this.budgetChecked);
    const counters = {
      mentionsDelivered: this.delivered.mentions,
      dmsDelivered: this.delivered.dms,
      followed: this.delivered.followed,
      attachmentsStored: this.delivered.attachmentsStored,
      attachmentsUnavailable: this.delivered.attachmentsUnavailable,
    };
    if (Object.values(counters).some(Boolean)) health.counters = counters;
    if (counters.mentionsDelivered || counters.dmsDelivered) health.lastDeliveredAt = this.nowIso;
    const moved = !sameCheckpoints(checkpoints, this.claimedCheckpoints);
    await this.deps.state.finishPoll(this.channel.id, {
      owner: this.owner,
      expected: this.claimedCheckpoints,
      next: moved ? checkpoints : undefined,
      health,
      // a failed poll hands its claim back (the due time the job was sent for), so that SQS's
      // redelivery of this very job can claim the channel again and finish the work
      nextPollAt: this.failure ? this.claimDueAt : next,
    });
    if (this.failure) throw this.failure;
    return {
      status: skipReason ? 'skipped' : 'polled',
      reason: skipReason,
      mentionsDelivered: this.delivered.mentions,
      dmsDelivered: this.delivered.dms,
      followed: this.delivered.followed,
      errors: this.errors,
      nextPollAt: next,
      degraded: this.channel.status === 'degraded',
    };
  }
}

/** Checkpoints compare field by field, a missing field equal to null (older items lack some). */
function sameCheckpoints(a: ChannelCheckpoints, b: ChannelCheckpoints): boolean {
  const fields: Array<keyof ChannelCheckpoints> = [
    'mentionsSinceId',
    'dmEventId',
    'dmCreatedAt',
    'mentionsBacklog',
    'dmBacklog',
    'dmCoveredTo',
    'dmHold',
  ];
  return fields.every((f) => JSON.stringify(a[f] ?? null) === JSON.stringify(b[f] ?? null));
}

/** The entries of `after` that differ from `before` (undefined when none): health maps are written per key. */
function changedEntries<T>(
  before: Record<string, T> | undefined,
  after: Record<string, T>,
): Record<string, T> | undefined {
  const out: Record<string, T> = {};
  for (const [k, v] of Object.entries(after))
    if (JSON.stringify(before?.[k]) !== JSON.stringify(v)) out[k] = v;
  return Object.keys(out).length ? out : undefined;
}
