/**
 * The X Activity API subscriptions of each channel (X-API.md §7, §9; issue 16 item 2): which event
 * types a channel wants, creating and deleting them at X so that it holds exactly those, and recording
 * on the channel what it holds and whether real time is on — or why not.
 *
 * ```
 * channel (status, switches, scopes) ─> wanted types ─┐
 * held (the record, or X's list in reconciliation) ───┴─> delete extras (app bearer)
 *                                                       ─> create missing (the channel's user token)
 *                                                       ─> record { state, reason, subscriptions }
 * ```
 * - mentions: `post.mention.create` + `post.reply.create` (what `GET /2/users/:id/mentions` returns);
 *   DMs: `dm.received` + `chat.received` (XChat); `oauth.revoke` beside them where X accepts it;
 * - nothing is wanted while the channel is paused, needs re-authorization or is not signed in;
 * - a failure never throws to the caller (an admin operation must not fail because of X's real time):
 *   the channel stays on polling with the reason, and the next reconciliation repairs it;
 * - each subscription is tagged `xc:<channelId>`, so reconciliation can tell ours from others' and
 *   find those a deleted channel left behind.
 *
 * Concurrent syncs of one channel (an admin change and a reconciliation) may both write the record; the
 * last one wins and may be a step behind X, which the next reconciliation (it reads X's list) repairs.
 */
import type { Channel, ChannelRealtime, HeldSubscription, RealtimeOffCode } from '../channel';
import { isChannelError, type ChannelError } from '../errors';
import type { Clock, TokenProvider } from '../ports';

export const MENTION_EVENT_TYPES = ['post.mention.create', 'post.reply.create'] as const;
export const DM_EVENT_TYPES = ['dm.received', 'chat.received'] as const;
export const REVOKE_EVENT_TYPE = 'oauth.revoke';

const TAG_PREFIX = 'xc:';
/** The tag every subscription of a channel carries. */
export const subscriptionTag = (channelId: string): string => `${TAG_PREFIX}${channelId}`;
/** The channel a tag names, or null for a subscription that is not x-channel's. */
export const channelIdOfTag = (tag: string | null | undefined): string | null =>
  tag && tag.startsWith(TAG_PREFIX) && tag.length > TAG_PREFIX.length ? tag.slice(TAG_PREFIX.length) : null;

/** A subscription as X lists it. */
export interface XSubscription {
  id: string;
  eventType: string;
  userId: string | null;
  tag: string | null;
  webhookId: string | null;
}

/**
 * X's subscription endpoints (adapters/x/x-activity.ts). Errors are `ChannelError`s; `create` refuses
 * with `permanent` codes `subscription_limit` (app-wide cap), `access_level` (plan without XAA),
 * `duplicate_subscription`, `event_type_unsupported`, `missing_scope`, `xaa_not_configured` (no API key
 * and secret in the X app secret); `needs_reauth` for a refused user token; `retryable` otherwise.
 */
export interface XActivity {
  /** The deployment's webhook id at X (found by its URL), or null when none is registered. */
  webhookId(): Promise<string | null>;
  create(input: {
    accessToken: string;
    eventType: string;
    userId: string;
    webhookId: string;
    tag: string;
  }): Promise<XSubscription>;
  /** Deletes with the app bearer token; one X no longer knows counts as deleted. */
  delete(id: string): Promise<void>;
  /** Every subscription of the app, all pages. */
  list(): Promise<XSubscription[]>;
}

/** Where the record goes: a write beside the channel's `version`, a no-op for a deleted channel. */
export interface RealtimeStore {
  save(channelId: string, realtime: ChannelRealtime): Promise<void>;
}

export interface RealtimeSettings {
  /** Null when the plan has the X Activity API; else why not (free, legacy Basic and Pro). */
  unavailable: { code: 'plan_without_xaa'; reason: string } | null;
  /** The app-wide subscription cap (1,500 on self-serve pay-per-use); null: none known. */
  subscriptionLimit: number | null;
}

export interface RealtimeDeps {
  x: XActivity;
  tokens: TokenProvider;
  store: RealtimeStore;
  clock: Clock;
  settings: RealtimeSettings;
  /** Event types X refused as unknown (e.g. `oauth.revoke`, missing from X's enum): not asked again. */
  unsupported?: Set<string>;
  log?: { warn(message: string, extra?: Record<string, unknown>): void };
}

/** The app-wide count of subscriptions during one reconciliation (or what X's last refusal said). */
export interface SubscriptionBudget {
  used: number;
  limit: number | null;
  /** X refused a creation with its limit during this run. */
  reached: boolean;
}

/** What a channel should hold, or why nothing. */
export interface Wanted {
  types: string[];
  mentions: boolean;
  dms: boolean;
  /** Why a stream the admin switched on is not wanted (or nothing is). */
  off: { code: RealtimeOffCode; reason: string } | null;
}

/** The event types a channel wants from its status, switches and granted scopes. */
export function wantedFor(
  channel: Pick<Channel, 'status' | 'account' | 'scopes' | 'listenMentions' | 'listenDms'>,
): Wanted {
  const none = (code: RealtimeOffCode, reason: string): Wanted => ({
    types: [],
    mentions: false,
    dms: false,
    off: { code, reason },
  });
  if (!channel.account || channel.status === 'pending_auth')
    return none('not_connected', 'not signed in with X yet');
  if (channel.status === 'paused') return none('paused', 'the channel is paused');
  if (channel.status === 'needs_reauth') return none('needs_reauth', 'sign in with X again');
  if (!channel.listenMentions && !channel.listenDms)
    return none('switched_off', 'mentions and direct messages are switched off');
  const granted = new Set(channel.scopes ?? []);
  const mentions = channel.listenMentions && granted.has('tweet.read');
  const dms = channel.listenDms && granted.has('dm.read');
  const types: string[] = [...(mentions ? MENTION_EVENT_TYPES : []), ...(dms ? DM_EVENT_TYPES : [])];
  if (types.length) types.push(REVOKE_EVENT_TYPE);
  const missing = [
    channel.listenMentions && !mentions ? 'tweet.read' : null,
    channel.listenDms && !dms ? 'dm.read' : null,
  ].filter(Boolean);
  return {
    types,
    mentions,
    dms,
    off: missing.length
      ? { code: 'missing_scope', reason: `sign in with X again to grant ${missing.join(' and ')}` }
      : null,
  };
}

const WEBHOOK_MISSING_REASON = 'no webhook is registered at X for this deployment’s /x/webhook: polling only';

/** Turns an X refusal into the reason shown on the channel. */
function offFor(error: ChannelError): { code: RealtimeOffCode; reason: string } {
  switch (error.code) {
    case 'subscription_limit':
      return {
        code: 'subscription_limit',
        reason: 'the X app has reached its X Activity API subscription limit: polling only',
      };
    case 'access_level':
      return {
        code: 'plan_without_xaa',
        reason: 'the X plan of this app does not include the X Activity API: polling only',
      };
    case 'webhook_missing':
      return { code: 'webhook_missing', reason: WEBHOOK_MISSING_REASON };
    case 'xaa_not_configured':
      return {
        code: 'not_configured',
        reason: 'the X app secret has no apiKey/apiKeySecret (API Key and Secret): polling only',
      };
    case 'needs_reauth':
      return { code: 'needs_reauth', reason: 'X refused the channel’s token: sign in with X again' };
    default:
      return {
        code: 'x_error',
        reason: `X refused a subscription (${error.code}); retried by reconciliation`,
      };
  }
}

const toError = (e: unknown): ChannelError =>
  isChannelError(e)
    ? e
    : ({ code: 'internal', kind: 'retryable', message: 'unexpected error' } as unknown as ChannelError);

/** Whether two records say the same (ignoring `checkedAt`; a subscription's `since` counts). */
export function sameRealtime(a: ChannelRealtime | undefined, b: ChannelRealtime): boolean {
  if (!a) return false;
  const ids = (r: ChannelRealtime) =>
    r.subscriptions
      .map((s) => `${s.eventType}=${s.id}@${s.since ?? ''}`)
      .sort()
      .join(',');
  return (
    a.state === b.state &&
    a.reasonCode === b.reasonCode &&
    a.reason === b.reason &&
    a.mentions === b.mentions &&
    a.dms === b.dms &&
    ids(a) === ids(b)
  );
}

export interface SyncOptions {
  /** What the channel holds at X (reconciliation passes X's list); default: the channel's record. */
  held?: HeldSubscription[];
  budget?: SubscriptionBudget;
  /**
   * False: only delete and record (the app-wide reconciliation has no user tokens); a missing type is
   * recorded as such and the channel's next poll creates it (`needsRepair`).
   */
  create?: boolean;
}

/** Reasons after which a poll retries the creation only once `RETRY_AFTER_MS` have passed. */
const SLOW_RETRY: ReadonlySet<string> = new Set([
  'subscription_limit',
  'webhook_missing',
  'not_configured',
  'x_error',
]);
/** How long a channel waits before its polls try a refused creation again. */
export const REPAIR_RETRY_MS = 15 * 60_000;

/**
 * Whether a channel's poll should sync its subscriptions (with the token it holds anyway): a wanted
 * type is not in the record, or the record holds one no longer wanted. Refusals are retried after
 * `REPAIR_RETRY_MS`; a plan without XAA never.
 */
export function needsRepair(
  channel: Channel,
  settings: RealtimeSettings,
  now: Date,
  retryMs = REPAIR_RETRY_MS,
): boolean {
  if (settings.unavailable) return channel.realtime?.reasonCode !== settings.unavailable.code;
  const r = channel.realtime;
  const wanted = wantedFor(channel).types;
  const held = new Set((r?.subscriptions ?? []).map((s) => s.eventType));
  const extra = [...held].some((t) => !wanted.includes(t));
  const missing = wanted.some((t) => !held.has(t));
  if (!r) return wanted.length > 0;
  if (extra) return true;
  if (!missing) return false;
  if (r.reasonCode && SLOW_RETRY.has(r.reasonCode)) return now.getTime() - Date.parse(r.checkedAt) >= retryMs;
  return true;
}

/**
 * Brings one channel's subscriptions at X to what it wants and records the outcome. Never throws: a
 * failure is the recorded reason (and a failed record write is only logged).
 */
export async function syncChannel(
  deps: RealtimeDeps,
  channel: Channel,
  options: SyncOptions = {},
): Promise<ChannelRealtime> {
  const wanted = wantedFor(channel);
  const now = deps.clock.now().toISOString();
  const unsupported = deps.unsupported ?? new Set<string>();
  // `since` (core/realtime/proof.ts): kept from the record for the same id; a subscription first seen
  // in X's list is held at least since now (X listed it before this sync began)
  const recorded = new Map((channel.realtime?.subscriptions ?? []).map((s) => [s.id, s.since]));
  let held = options.held
    ? options.held.map((s) => ({ id: s.id, eventType: s.eventType, since: recorded.get(s.id) ?? now }))
    : [...(channel.realtime?.subscriptions ?? [])];
  let off: { code: RealtimeOffCode; reason: string } | null = null;

  if (deps.settings.unavailable) {
    // X would refuse every call: nothing is held, polling stays the only path
    held = [];
    off = deps.settings.unavailable;
  } else {
    // extras first (a switch turned off, a paused channel, duplicates): they free room under the cap
    const seen = new Set<string>();
    const keep: HeldSubscription[] = [];
    for (const sub of held) {
      if (wanted.types.includes(sub.eventType) && !seen.has(sub.eventType)) {
        seen.add(sub.eventType);
        keep.push(sub);
        continue;
      }
      try {
        await deps.x.delete(sub.id);
        if (options.budget) options.budget.used--;
      } catch (e) {
        keep.push(sub); // still held: the next sync tries again
        deps.log?.warn('subscription not deleted', {
          channelId: channel.id,
          eventType: sub.eventType,
          errorCode: toError(e).code,
        });
      }
    }
    held = keep;
    const missing = wanted.types.filter((t) => !seen.has(t) && !unsupported.has(t));
    if (missing.length && options.create === false) {
      const full =
        options.budget &&
        (options.budget.reached ||
          (options.budget.limit !== null && options.budget.used + missing.length > options.budget.limit));
      // the slots the channel's next poll will take are reserved, so later channels see a full budget
      if (!full && options.budget) options.budget.used += missing.length;
      const previous = channel.realtime?.reasonCode;
      off = full
        ? offFor({ code: 'subscription_limit' } as ChannelError)
        : // a refusal keeps its reason (and retry time), except a cap this run found room under
          previous &&
            SLOW_RETRY.has(previous) &&
            !(previous === 'subscription_limit' && options.budget) &&
            channel.realtime?.reason
          ? { code: previous, reason: channel.realtime.reason }
          : {
              code: 'not_synced',
              reason: 'subscriptions missing at X: the channel’s next poll re-creates them',
            };
    } else if (missing.length) off = await createMissing(deps, channel, missing, held, options.budget);
  }

  const has = (t: string) => held.some((s) => s.eventType === t);
  const covered = (types: readonly string[]) =>
    types.every((t) => has(t) || (unsupported.has(t) && t !== types[0]));
  const mentions = wanted.mentions && covered(MENTION_EVENT_TYPES);
  const dms = wanted.dms && covered(DM_EVENT_TYPES);
  const allOn = wanted.types.length > 0 && mentions === wanted.mentions && dms === wanted.dms;
  const on = allOn && !wanted.off;
  const why = on
    ? null
    : (off ?? wanted.off ?? { code: 'x_error' as const, reason: 'not every subscription is held yet' });
  const record: ChannelRealtime = {
    state: on ? 'on' : 'off',
    reasonCode: why?.code ?? null,
    reason: why?.reason ?? null,
    mentions,
    dms,
    subscriptions: held,
    checkedAt: now,
  };
  if (!sameRealtime(channel.realtime, record)) {
    try {
      await deps.store.save(channel.id, record);
    } catch (e) {
      deps.log?.warn('real-time record not saved', { channelId: channel.id, errorCode: toError(e).code });
    }
  }
  return record;
}

/** Creates the missing types with the channel's token; the first refusal that stops them is the reason. */
async function createMissing(
  deps: RealtimeDeps,
  channel: Channel,
  missing: string[],
  held: HeldSubscription[],
  budget?: SubscriptionBudget,
): Promise<{ code: RealtimeOffCode; reason: string } | null> {
  if (budget && (budget.reached || (budget.limit !== null && budget.used + missing.length > budget.limit))) {
    return offFor({ code: 'subscription_limit' } as ChannelError);
  }
  let webhookId: string | null;
  let accessToken: string;
  try {
    webhookId = await deps.x.webhookId();
    if (!webhookId) {
      return { code: 'webhook_missing', reason: WEBHOOK_MISSING_REASON };
    }
    accessToken = await deps.tokens.getValidAccessToken(channel.id);
  } catch (e) {
    return offFor(toError(e));
  }
  for (const eventType of missing) {
    try {
      const sub = await deps.x.create({
        accessToken,
        eventType,
        userId: channel.account!.id,
        webhookId,
        tag: subscriptionTag(channel.id),
      });
      // after X answered: X created it before this time (core/realtime/proof.ts)
      held.push({ id: sub.id, eventType, since: deps.clock.now().toISOString() });
      if (budget) budget.used++;
    } catch (e) {
      const error = toError(e);
      if (error.code === 'event_type_unsupported' && eventType === REVOKE_EVENT_TYPE) {
        // documented as an event but missing from X's subscription enum (X-API.md §9): go without it
        deps.unsupported?.add(eventType);
        continue;
      }
      if (error.code === 'duplicate_subscription') {
        // X holds it already (a sync that crashed before its record): adopt it
        const adopted = await adopt(deps, channel, eventType, webhookId);
        if (adopted) {
          held.push(adopted);
          continue;
        }
      }
      if (error.code === 'subscription_limit' && budget) budget.reached = true;
      deps.log?.warn('subscription not created', {
        channelId: channel.id,
        eventType,
        errorCode: error.code,
      });
      return offFor(error);
    }
  }
  return null;
}

async function adopt(
  deps: RealtimeDeps,
  channel: Channel,
  eventType: string,
  webhookId: string,
): Promise<HeldSubscription | null> {
  try {
    const found = (await deps.x.list()).find(
      (s) => s.eventType === eventType && s.userId === channel.account!.id && s.webhookId === webhookId,
    );
    return found ? { id: found.id, eventType, since: deps.clock.now().toISOString() } : null;
  } catch {
    return null;
  }
}

/**
 * Deletes every subscription a channel holds (the record, and X's list by tag when it answers): the
 * channel is being deleted. Never throws; what X still holds is an orphan for reconciliation.
 */
export async function removeChannelSubscriptions(
  deps: Pick<RealtimeDeps, 'x' | 'log'>,
  channel: Channel,
): Promise<{ deleted: number; failed: number }> {
  const ids = new Set((channel.realtime?.subscriptions ?? []).map((s) => s.id));
  try {
    for (const s of await deps.x.list()) if (channelIdOfTag(s.tag) === channel.id) ids.add(s.id);
  } catch {
    // X's list is a second look only; the record's ids are deleted anyway
  }
  let deleted = 0;
  let failed = 0;
  for (const id of ids) {
    try {
      await deps.x.delete(id);
      deleted++;
    } catch (e) {
      failed++;
      deps.log?.warn('subscription not deleted', { channelId: channel.id, errorCode: toError(e).code });
    }
  }
  return { deleted, failed };
}
