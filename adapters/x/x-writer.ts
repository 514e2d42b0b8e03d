/**
 * `XWriter` with twitter-api-v2: replies and posts (`POST /2/tweets`), DMs
 * (`POST /2/dm_conversations/with/:participant_id/messages` for a user id,
 * `POST /2/dm_conversations/:dm_conversation_id/messages` for an id containing `-`), and the lookups that
 * find an earlier delivery after a crash (`GET /2/users/:id/tweets`, the DM conversation's `dm_events`).
 *
 * Group DM conversations have bare numeric ids, indistinguishable from user ids in an outbound command;
 * a bare id is always treated as a user id (documented in docs/result-codes.md).
 */
import type { TweetV2 } from 'twitter-api-v2';
import { isChannelError, retryable } from '../../core/errors';
import { isDmConversationId } from '../../core/outbound/endpoints';
import { sameText } from '../../core/outbound/fingerprint';
import {
  DELIVERY_UNKNOWN,
  type DeliveryQuery,
  type EarlierDelivery,
  type XWriter,
  type XWriterFactory,
} from '../../core/outbound/ports';
import { createXUserClient, type XClientSettings } from './client';
import { mapXError, mayHaveApplied, type XOperation } from './errors';

/** The DM event fields we read (twitter-api-v2 does not export its DM event type from the package root). */
interface DmEvent {
  id: string;
  text?: string;
  sender_id?: string;
  created_at?: string;
}

export interface XWriterOptions extends XClientSettings {
  /** Pages of history read when looking for an earlier delivery before answering "X cannot tell". @default 3 */
  lookupMaxPages?: number;
  /** Allowance for clock difference between us and X when comparing times. @default 300 s */
  clockSkewSeconds?: number;
}

/** An answer without an id: X acted but we cannot name the result, so the delivery counts as unknown. */
function requireId(id: string | undefined): string {
  if (typeof id === 'string' && id.length > 0) return id;
  throw retryable(DELIVERY_UNKNOWN, 'X answered the write without an id');
}

export function createXWriterFactory(options: XWriterOptions): XWriterFactory {
  const maxPages = options.lookupMaxPages ?? 3;
  const skewMs = (options.clockSkewSeconds ?? 300) * 1000;

  return (accessToken, onRateLimit): XWriter => {
    const v2 = createXUserClient({
      ...options,
      accessToken,
      // every response's x-rate-limit-* headers, keyed like the channel's health (`POST /2/tweets`)
      onRateLimit: (o) => {
        options.onRateLimit?.(o);
        onRateLimit?.({
          endpoint: `${o.method} ${o.endpoint}`,
          limit: o.limit,
          remaining: o.remaining,
          reset: o.reset,
        });
      },
    }).v2;

    /** A write: an error without an answer may still have posted, which the core must know. */
    const write = async <T>(operation: XOperation, call: () => Promise<T>): Promise<T> => {
      try {
        return await call();
      } catch (error) {
        const mapped = mapXError(error, operation);
        if (mayHaveApplied(mapped)) {
          throw retryable(
            DELIVERY_UNKNOWN,
            'X did not answer the write; it may or may not have been applied',
            undefined,
            error,
          );
        }
        throw mapped;
      }
    };

    /** A lookup: refusals (plan, scope, not found) mean "X cannot tell"; transient and auth errors propagate. */
    const lookup = async (call: () => Promise<EarlierDelivery>): Promise<EarlierDelivery> => {
      try {
        return await call();
      } catch (error) {
        const mapped = isChannelError(error) ? error : mapXError(error, 'read');
        if (mapped.kind === 'permanent' || mapped.kind === 'invalid_input') {
          return { status: 'unknown', reason: `the lookup was refused (${mapped.code})` };
        }
        throw mapped;
      }
    };

    async function findPost(q: DeliveryQuery): Promise<EarlierDelivery> {
      const startTime = new Date(q.since.getTime() - skewMs);
      const paginator = await v2.userTimeline(q.accountId, {
        start_time: startTime.toISOString(),
        max_results: 100,
        'tweet.fields': ['created_at', 'referenced_tweets', 'conversation_id'],
      });
      const matches = (t: TweetV2) => {
        const repliedTo = t.referenced_tweets?.find((r) => r.type === 'replied_to')?.id;
        const targetOk = q.kind === 'reply' ? repliedTo === q.targetId : repliedTo === undefined;
        return targetOk && sameText(q.text, t.text);
      };
      for (let page = 1; ; page++) {
        // `tweets` holds every page fetched so far; X returns newest first, all at or after start_time.
        const hit = paginator.tweets.find(matches);
        if (hit) return { status: 'found', xId: hit.id };
        if (paginator.done) return { status: 'not_found' };
        if (page >= maxPages) {
          return {
            status: 'unknown',
            reason: `more than ${maxPages} pages of posts since the first attempt`,
          };
        }
        await paginator.fetchNext();
      }
    }

    async function findDm(q: DeliveryQuery): Promise<EarlierDelivery> {
      const target = q.targetId ?? '';
      const params = {
        max_results: 100,
        event_types: 'MessageCreate' as const,
        'dm_event.fields': ['created_at', 'sender_id', 'dm_conversation_id', 'text'] as Array<
          'created_at' | 'sender_id' | 'dm_conversation_id' | 'text'
        >,
      };
      const paginator = isDmConversationId(target)
        ? await v2.listDmEventsOfConversation(target, params)
        : await v2.listDmEventsWithParticipant(target, params);
      const floor = q.since.getTime() - skewMs;
      const matches = (e: DmEvent) =>
        e.sender_id === q.accountId &&
        typeof e.text === 'string' &&
        sameText(q.text, e.text) &&
        (!e.created_at || Date.parse(e.created_at) >= floor);
      for (let page = 1; ; page++) {
        const events = paginator.events as DmEvent[];
        const hit = events.find(matches);
        if (hit) return { status: 'found', xId: hit.id };
        // No since_id for DMs: the history is conclusive once it reaches back before the first attempt.
        const oldest = events[events.length - 1];
        const reachedFloor = oldest?.created_at !== undefined && Date.parse(oldest.created_at) < floor;
        if (paginator.done || reachedFloor) return { status: 'not_found' };
        if (page >= maxPages) {
          return {
            status: 'unknown',
            reason: `more than ${maxPages} pages of DM events since the first attempt`,
          };
        }
        await paginator.fetchNext();
      }
    }

    return {
      reply: (text, inReplyToTweetId) =>
        write('reply', async () => ({ xId: requireId((await v2.reply(text, inReplyToTweetId)).data?.id) })),
      post: (text) => write('post', async () => ({ xId: requireId((await v2.tweet({ text })).data?.id) })),
      sendDm: (target, text) =>
        write('dm', async () => {
          const sent = isDmConversationId(target)
            ? await v2.sendDmInConversation(target, { text })
            : await v2.sendDmToParticipant(target, { text });
          // X answers `{ data: { dm_conversation_id, dm_event_id } }`; twitter-api-v2 1.29.1 types it unwrapped.
          const body = sent as unknown as { data?: { dm_event_id?: string }; dm_event_id?: string };
          return { xId: requireId(body.data?.dm_event_id ?? body.dm_event_id) };
        }),
      findEarlierDelivery: (q) => lookup(() => (q.kind === 'dm' ? findDm(q) : findPost(q))),
    };
  };
}
