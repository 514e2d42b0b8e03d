/**
 * A channel that needs re-authorization stops its X Activity API subscriptions at once (issue 16 item
 * 3: `oauth.revoke`, or the first 401, puts the channel in `needs_reauth` and stops its subscriptions),
 * instead of at the next reconciliation (15 minutes later).
 *
 * Every path that marks a channel `needs_reauth` writes it through `ChannelStore.update`: the webhook's
 * `oauth.revoke` (core/realtime/webhook.ts), the token provider's refused refresh (core/tokens.ts), the
 * poller's and the sender's 401 after a refresh. This decorator follows such an update with
 * `syncChannel` on the channel as stored: a `needs_reauth` channel wants nothing, so each subscription
 * its record holds is deleted — with the **app's** bearer token, which is what X takes for
 * `DELETE /2/activity/subscriptions/:id` (X-API.md §9, OpenAPI 2.167; the user's token is dead by
 * then) — and the record says off, `needs_reauth`.
 * - best effort: a failure is logged, the update's caller never sees it, and the reconciliation (which
 *   reads X's own list) deletes what is left;
 * - the update itself is untouched (same arguments, same answer, same errors).
 */
import type { ChannelChange, ChannelStore } from '../ports';
import { syncChannel, type RealtimeDeps } from './subscriptions';

export function stoppingRealtimeOnReauth(
  channels: ChannelStore,
  realtime: RealtimeDeps,
  log?: { warn(message: string, extra?: Record<string, unknown>): void },
): ChannelStore {
  const update = async (id: string, expectedVersion: number, change: ChannelChange) => {
    const updated = await channels.update(id, expectedVersion, change);
    if (change.status === 'needs_reauth' && updated.status === 'needs_reauth') {
      try {
        await syncChannel(realtime, updated);
      } catch (e) {
        log?.warn('subscriptions not stopped after needs_reauth; reconciliation deletes them', {
          channelId: id,
          errorName: (e as Error)?.name,
        });
      }
    }
    return updated;
  };
  return new Proxy(channels, {
    get(target, prop, receiver) {
      if (prop === 'update') return update;
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
