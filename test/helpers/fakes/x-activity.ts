/**
 * In-memory X Activity API subscriptions (the `XActivity` port) and the real-time record store over a
 * `FakeChannelStore`. The simulated X is the faithful one (integration tests); this fake only keeps
 * the rules core relies on: a cap, duplicates refused, an event type that may be unsupported.
 */
import type { Channel, ChannelRealtime } from '../../../core/channel';
import { permanent, type ChannelError } from '../../../core/errors';
import type { RealtimeStore, XActivity, XSubscription } from '../../../core/realtime/subscriptions';
import type { FakeChannelStore } from './channel-store';

export class FakeXActivity implements XActivity {
  readonly subs = new Map<string, XSubscription>();
  hook: string | null = 'hook-1';
  limit: number | null = null;
  /** Every call fails with this error while set. */
  failAll: ChannelError | null = null;
  unsupported = new Set<string>();
  calls: string[] = [];
  private next = 1;

  async webhookId() {
    this.calls.push('webhookId');
    if (this.failAll) throw this.failAll;
    return this.hook;
  }

  async create(input: {
    accessToken: string;
    eventType: string;
    userId: string;
    webhookId: string;
    tag: string;
  }) {
    this.calls.push(`create ${input.eventType}`);
    if (this.failAll) throw this.failAll;
    if (this.unsupported.has(input.eventType))
      throw permanent('event_type_unsupported', 'X does not accept this event type');
    const dup = [...this.subs.values()].find(
      (s) => s.eventType === input.eventType && s.userId === input.userId && s.webhookId === input.webhookId,
    );
    if (dup) throw permanent('duplicate_subscription', 'X holds this subscription already');
    if (this.limit !== null && this.subs.size >= this.limit)
      throw permanent('subscription_limit', 'the X app reached its subscription limit');
    const sub: XSubscription = {
      id: String(this.next++),
      eventType: input.eventType,
      userId: input.userId,
      tag: input.tag,
      webhookId: input.webhookId,
    };
    this.subs.set(sub.id, sub);
    return { ...sub };
  }

  async delete(id: string) {
    this.calls.push(`delete ${id}`);
    if (this.failAll) throw this.failAll;
    this.subs.delete(id);
  }

  async list() {
    this.calls.push('list');
    if (this.failAll) throw this.failAll;
    return [...this.subs.values()].map((s) => ({ ...s }));
  }

  /** The event types held for a user. */
  typesOf(userId: string): string[] {
    return [...this.subs.values()]
      .filter((s) => s.userId === userId)
      .map((s) => s.eventType)
      .sort();
  }
}

/** Writes the record onto the fake store's channel, beside its version (as the DynamoDB adapter does). */
export function fakeRealtimeStore(channels: FakeChannelStore): RealtimeStore & { saves: ChannelRealtime[] } {
  const saves: ChannelRealtime[] = [];
  return {
    saves,
    async save(channelId, realtime) {
      saves.push(realtime);
      const c: Channel | undefined = channels.items.get(channelId);
      if (c) channels.items.set(channelId, { ...c, realtime: structuredClone(realtime) });
    },
  };
}
