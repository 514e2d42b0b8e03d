/**
 * The periodic reconciliation of X Activity API subscriptions (issue 16 item 2), app-wide with the
 * app bearer token only: what X holds (`GET /2/activity/subscriptions`, all pages) against what each
 * channel wants (core/realtime/subscriptions.ts `wantedFor`).
 * ```
 * X's list ─┬─ tagged xc:<id> of a channel that is gone, or on another webhook ─> delete (orphans)
 *           └─ per channel (those holding subscriptions first, then oldest sign-in first):
 *                extras (switch off, paused, needs re-auth, duplicates) ─> delete
 *                missing ─> recorded ("next poll re-creates", or "subscription limit" when the
 *                           app-wide count would pass the cap) ─> the channel's poll creates them
 *                           with its user token (`needsRepair`)
 * ```
 * The app-wide count is X's list length, kept as subscriptions are deleted and slots reserved, against
 * the configured cap (1,500 on self-serve): channels beyond it stay on polling with the reason. A plan
 * without the X Activity API calls nothing at X and records the reason on each channel.
 */
import type { Channel, HeldSubscription } from '../channel';
import { isChannelError } from '../errors';
import {
  channelIdOfTag,
  sameRealtime,
  syncChannel,
  type RealtimeDeps,
  type SubscriptionBudget,
  type XSubscription,
} from './subscriptions';

export interface ReconcileReport {
  channels: number;
  /** Subscriptions X held for the app when the run started. */
  held: number;
  /** Orphans deleted: tagged for a channel that is gone, or made for another webhook. */
  deleted: number;
  /** Channels whose record changed. */
  changed: number;
  /** Channels recorded as beyond the app-wide cap. */
  overLimit: number;
  limit: number | null;
  /** Why the run stopped before comparing (X unreachable, not configured), else null. */
  error: string | null;
  /**
   * When X was asked for its list, set when every channel was compared with it and every changed
   * record was saved: the caller advances `subscriptionsListedAt` (core/realtime/proof.ts). Else null.
   */
  listedAt: string | null;
}

/** Reconciles every channel. Throws nothing: an unreachable X is the report's `error`. */
export async function reconcileSubscriptions(
  deps: Omit<RealtimeDeps, 'tokens'>,
  channels: Channel[],
): Promise<ReconcileReport> {
  const report: ReconcileReport = {
    channels: channels.length,
    held: 0,
    deleted: 0,
    changed: 0,
    overLimit: 0,
    limit: deps.settings.subscriptionLimit,
    error: null,
    listedAt: null,
  };
  let saveFailures = 0;
  const store = {
    save: async (...args: Parameters<RealtimeDeps['store']['save']>) => {
      try {
        await deps.store.save(...args);
      } catch (e) {
        saveFailures++;
        throw e;
      }
    },
  };
  // never used: `create: false` below (this path has no user tokens)
  const full: RealtimeDeps = {
    ...deps,
    store,
    tokens: {
      getValidAccessToken: () => Promise.reject(new Error('reconciliation holds no user tokens')),
    },
  };
  const count = async (c: Channel, held?: HeldSubscription[], budget?: SubscriptionBudget) => {
    const out = await syncChannel(full, c, { held, budget, create: false });
    if (!sameRealtime(c.realtime, out)) report.changed++;
    if (out.reasonCode === 'subscription_limit') report.overLimit++;
  };

  if (deps.settings.unavailable) {
    for (const c of channels) await count(c);
    return report;
  }
  let all: XSubscription[];
  let webhookId: string | null;
  const listedAt = deps.clock.now().toISOString();
  try {
    [all, webhookId] = await Promise.all([deps.x.list(), deps.x.webhookId()]);
  } catch (e) {
    report.error = isChannelError(e) ? e.code : 'internal';
    return report;
  }
  report.held = all.length;
  const budget: SubscriptionBudget = {
    used: all.length,
    limit: deps.settings.subscriptionLimit,
    reached: false,
  };
  const ids = new Set(channels.map((c) => c.id));
  const byChannel = new Map<string, HeldSubscription[]>();
  for (const s of all) {
    const owner = channelIdOfTag(s.tag);
    if (owner === null) continue; // not x-channel's
    const orphan = !ids.has(owner) || (webhookId !== null && s.webhookId !== webhookId);
    if (orphan) {
      try {
        await deps.x.delete(s.id);
        budget.used--;
        report.deleted++;
      } catch {
        // still there: the next run tries again
      }
      continue;
    }
    const list = byChannel.get(owner) ?? [];
    list.push({ id: s.id, eventType: s.eventType });
    byChannel.set(owner, list);
  }
  const order = [...channels].sort((a, b) => {
    const holds = Number(byChannel.has(b.id)) - Number(byChannel.has(a.id));
    return holds || (a.connectedAt ?? a.createdAt).localeCompare(b.connectedAt ?? b.createdAt);
  });
  for (const c of order) await count(c, byChannel.get(c.id) ?? [], budget);
  if (!saveFailures) report.listedAt = listedAt;
  return report;
}
