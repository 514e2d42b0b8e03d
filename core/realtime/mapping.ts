/**
 * XAA events → the SAME inbound v1 messages polling produces (same `id`, `conversationId`, `author`,
 * `replyTo`, `attachments`): the post and DM mappings of core/inbound/mapping.ts are reused as they
 * are, after the payload is put in the shapes the poller reads (./events.ts).
 *
 * Two steps, so that routing needs no channel and mapping no I/O:
 * 1. `classifyEvent`: which account an event is for and what it carries (or why it is not delivered:
 *    an unknown type, a payload that does not parse);
 * 2. `messagesFor`: the messages for one channel of that account — never the account's own posts or
 *    DMs, only while the channel listens to that feature and is active or degraded.
 */
import { INBOUND_SCHEMA, type InboundMessage } from '../../contracts';
import { describeIssues } from '../../contracts';
import type { Channel } from '../channel';
import {
  authorOf,
  conversationIdOf,
  dmToInbound,
  mentionToInbound,
  shouldDeliverDm,
  shouldDeliverMention,
  type MappingContext,
} from '../inbound/mapping';
import type { XDmEventData, XIncludes, XTweetData } from '../inbound/types';
import {
  chatCreatedAt,
  chatPayloadSchema,
  dmPayloadSchema,
  parseIncludes,
  postPayloadSchema,
  revokePayloadSchema,
  toDmEvents,
  toTweet,
  type ChatPayload,
  type XaaEvent,
} from './events';

/** The event types x-channel subscribes to and maps (X-API.md §9). */
export const MENTION_EVENT_TYPES = ['post.mention.create', 'post.reply.create'] as const;
export const DM_EVENT_TYPES = ['dm.received'] as const;
export const CHAT_EVENT_TYPES = ['chat.received'] as const;
export const REVOKE_EVENT_TYPE = 'oauth.revoke';

/** What one event is, once its payload parsed. */
export type ClassifiedEvent =
  | { type: 'mention'; accountId: string; tweet: XTweetData; includes: XIncludes }
  | { type: 'dm'; accountId: string; events: XDmEventData[]; includes: XIncludes }
  | { type: 'chat'; accountId: string; chat: ChatPayload; includes: XIncludes }
  | { type: 'revoke'; accountId: string }
  /** A type x-channel does not subscribe to: acknowledged and counted. */
  | { type: 'unknown'; eventType: string }
  /** A known type whose payload or account could not be read: acknowledged, counted, logged by type. */
  | { type: 'malformed'; eventType: string; problem: string };

const accountOf = (e: XaaEvent) => e.filter?.user_id;

/** Routes one event to its account and checks its payload. Never throws. */
export function classifyEvent(e: XaaEvent): ClassifiedEvent {
  const eventType = e.event_type;
  const malformed = (problem: string): ClassifiedEvent => ({ type: 'malformed', eventType, problem });
  if ((MENTION_EVENT_TYPES as readonly string[]).includes(eventType)) {
    const accountId = accountOf(e);
    if (!accountId) return malformed('filter.user_id: missing');
    const p = postPayloadSchema.safeParse(e.payload);
    if (!p.success) return malformed(prefixed('payload', describeIssues(p.error)));
    const { tweet, includes } = toTweet(p.data, e.includes);
    return { type: 'mention', accountId, tweet, includes };
  }
  if ((DM_EVENT_TYPES as readonly string[]).includes(eventType)) {
    const p = dmPayloadSchema.safeParse(e.payload);
    if (!p.success) return malformed(prefixed('payload', describeIssues(p.error)));
    const accountId =
      accountOf(e) ?? p.data.direct_message_events[0]?.message_create?.target?.recipient_id ?? undefined;
    if (!accountId) return malformed('filter.user_id: missing');
    const { events, includes } = toDmEvents(p.data);
    return { type: 'dm', accountId, events, includes };
  }
  if ((CHAT_EVENT_TYPES as readonly string[]).includes(eventType)) {
    const accountId = accountOf(e);
    if (!accountId) return malformed('filter.user_id: missing');
    const p = chatPayloadSchema.safeParse(e.payload);
    if (!p.success) return malformed(prefixed('payload', describeIssues(p.error)));
    return { type: 'chat', accountId, chat: p.data, includes: parseIncludes(e.includes) };
  }
  if (eventType === REVOKE_EVENT_TYPE) {
    // X: "The filter may be empty" — the user is in the payload
    const p = revokePayloadSchema.safeParse(e.payload);
    const accountId = p.success ? p.data.user_id : accountOf(e);
    if (!accountId) return malformed('payload.user_id: missing');
    return { type: 'revoke', accountId };
  }
  return { type: 'unknown', eventType };
}

/** `payload: a.b: msg; c: msg` → `payload.a.b: msg; payload.c: msg` (names the field, never the value). */
function prefixed(prefix: string, issues: string): string {
  return issues
    .split('; ')
    .map((i) => (i.startsWith('(body)') ? i.replace('(body)', prefix) : `${prefix}.${i}`))
    .join('; ');
}

/** Why an event brings no message to a channel. */
export type SkipReason =
  | 'own'
  | 'repost'
  | 'not_a_message'
  | 'switch_off'
  | 'not_active'
  /** A DM with media: left to the poller, which downloads it with the channel's token (./webhook.ts). */
  | 'media_deferred';

/** The feature (switch) an event belongs to. */
const featureOf = (e: Extract<ClassifiedEvent, { type: 'mention' | 'dm' | 'chat' }>) =>
  e.type === 'mention' ? 'listenMentions' : 'listenDms';

/** Whether a channel takes real-time messages at all: the poller's rule (active or degraded). */
const takesMessages = (c: Channel) => c.status === 'active' || c.status === 'degraded';

/**
 * The inbound messages one event brings to one channel of its account, and why others were left out.
 * `receivedAt` is the time the webhook received the event.
 */
export function messagesFor(
  event: Extract<ClassifiedEvent, { type: 'mention' | 'dm' | 'chat' }>,
  channel: Channel,
  receivedAt: string,
): { messages: InboundMessage[]; skipped: SkipReason[] } {
  const { deferred: _deferred, ...out } = mapForChannel(event, channel, receivedAt);
  void _deferred;
  return out;
}

/** `messagesFor`, and the DMs with media left to the poller (`deferred`, as they would be delivered). */
export function mapForChannel(
  event: Extract<ClassifiedEvent, { type: 'mention' | 'dm' | 'chat' }>,
  channel: Channel,
  receivedAt: string,
): { messages: InboundMessage[]; skipped: SkipReason[]; deferred?: InboundMessage[] } {
  if (!channel.account || !takesMessages(channel)) return { messages: [], skipped: ['not_active'] };
  if (!channel[featureOf(event)]) return { messages: [], skipped: ['switch_off'] };
  const ctx: MappingContext = {
    channelId: channel.id,
    account: { id: channel.account.id, username: channel.account.username },
    receivedAt,
  };
  const accountId = channel.account.id;
  switch (event.type) {
    case 'mention': {
      if (!shouldDeliverMention(event.tweet, accountId, channel.options?.includeReposts ?? false)) {
        return { messages: [], skipped: [event.tweet.author_id === accountId ? 'own' : 'repost'] };
      }
      return { messages: [mentionToInbound(event.tweet, event.includes, ctx)], skipped: [] };
    }
    case 'dm': {
      const messages: InboundMessage[] = [];
      const skipped: SkipReason[] = [];
      const deferred: InboundMessage[] = [];
      for (const dm of event.events) {
        if (!shouldDeliverDm(dm, accountId)) {
          skipped.push(dm.sender_id === accountId ? 'own' : 'not_a_message');
          continue;
        }
        const message = dmToInbound(dm, event.includes, ctx);
        // its media URL needs the channel's token: the poller downloads it (core/inbound/dm-media.ts)
        if (message.attachments.length) {
          skipped.push('media_deferred');
          deferred.push(message);
        } else messages.push(message);
      }
      return { messages, skipped, deferred };
    }
    case 'chat': {
      if (event.chat.sender_id === accountId) return { messages: [], skipped: ['own'] };
      return { messages: [chatToInbound(event.chat, event.includes, ctx)], skipped: [] };
    }
  }
}

/**
 * An XChat message the connector cannot read: who wrote, where, and how to answer (a DM to the
 * sender), with `encrypted: true` and empty text (DESIGN.md "Contracts"). A one-to-one chat's
 * conversation (`<a>:<b>` at X) is given as X's DM conversation id `<smaller>-<larger>`, so that the
 * case system groups it with the same customer's unencrypted DMs.
 */
export function chatToInbound(chat: ChatPayload, includes: XIncludes, ctx: MappingContext): InboundMessage {
  const pair = /^([0-9]{1,19})[:-]([0-9]{1,19})$/.exec(chat.conversation_id);
  return {
    schema: INBOUND_SCHEMA,
    id: `x:chat:${chat.id}`,
    channelId: ctx.channelId,
    account: { id: ctx.account.id, username: ctx.account.username },
    kind: 'dm',
    conversationId: pair ? conversationIdOf(pair[1], pair[2]) : chat.conversation_id,
    author: authorOf(includes, chat.sender_id),
    text: '',
    createdAt: chatCreatedAt(chat) ?? ctx.receivedAt,
    inReplyToId: null,
    attachments: [],
    replyTo: { kind: 'dm', targetId: chat.sender_id },
    receivedAt: ctx.receivedAt,
    encrypted: true,
  };
}
