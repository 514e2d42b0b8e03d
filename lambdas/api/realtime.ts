/**
 * The admin operations' side of the X Activity API subscriptions (core/realtime/subscriptions.ts): after
 * a sign-in, a switch change, a pause or a resume the channel's subscriptions are brought in line; before
 * a delete they are removed. Best effort: an admin operation never fails because of real time — the
 * channel then shows the reason and the next reconciliation (the dispatcher's) repairs it.
 */
import type { Channel } from '../../core/channel';
import { removeChannelSubscriptions, syncChannel } from '../../core/realtime/subscriptions';
import type { ApiDeps } from './compose';

/** Syncs the channel's subscriptions; answers the channel with its new record (or as it was on failure). */
export async function syncRealtime(deps: ApiDeps, channelId: string): Promise<Channel | null> {
  try {
    const channel = await deps.channels.get(channelId);
    if (!channel) return null;
    const realtime = await syncChannel(deps.realtime, channel);
    deps.logger.info('real time synced', {
      channelId,
      state: realtime.state,
      reasonCode: realtime.reasonCode,
      subscriptions: realtime.subscriptions.length,
    });
    return { ...channel, realtime };
  } catch (e) {
    deps.logger.warn('real time not synced; reconciliation repairs it', {
      channelId,
      errorName: (e as Error)?.name,
    });
    return null;
  }
}

/** Deletes the subscriptions of a channel about to be deleted. */
export async function removeRealtime(deps: ApiDeps, channelId: string): Promise<void> {
  try {
    const channel = await deps.channels.get(channelId);
    if (!channel) return;
    const out = await removeChannelSubscriptions(deps.realtime, channel);
    if (out.deleted || out.failed) deps.logger.info('real time removed', { channelId, ...out });
  } catch (e) {
    deps.logger.warn('subscriptions not removed; reconciliation deletes them', {
      channelId,
      errorName: (e as Error)?.name,
    });
  }
}
