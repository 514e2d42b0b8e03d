/**
 * `XWriter` with twitter-api-v2: media upload v2 (initialize, 1 MB multipart appends, finalize, STATUS
 * polling), replies and posts (`POST /2/tweets`, `media.media_ids`), DMs (one `attachments` media id)
 * (`POST /2/dm_conversations/with/:participant_id/messages` for a user id,
 * `POST /2/dm_conversations/:dm_conversation_id/messages` for an id containing `-`), and the lookups that
 * find an earlier delivery after a crash (`GET /2/users/:id/tweets`, the DM conversation's `dm_events`).
 *
 * Group DM conversations have bare numeric ids, indistinguishable from user ids in an outbound command;
 * a bare id is always treated as a user id (documented in docs/result-codes.md).
 */
import type { TweetV2 } from 'twitter-api-v2';
import { isChannelError, permanent, retryable } from '../../core/errors';
import { isDmConversationId } from '../../core/outbound/endpoints';
import { sameText } from '../../core/outbound/fingerprint';
import {
  DELIVERY_UNKNOWN,
  type DeliveryQuery,
  type EarlierDelivery,
  type MediaUpload,
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
  /** Bytes per append (twitter-api-v2's own helper uses 1 MB). @default 1 MiB */
  mediaChunkBytes?: number;
  /** Longest wait for X to process a video or GIF after finalize before giving up (retryable). @default 60 s */
  mediaProcessingMaxMs?: number;
  /** Waits between STATUS polls (tests pass a fake). @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
}

/** What finalize and STATUS answer about processing (OpenAPI 2.167 `processing_info`). */
interface ProcessingInfo {
  state?: string;
  check_after_secs?: number;
}
interface UploadAnswer {
  data?: { id?: string; processing_info?: ProcessingInfo };
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

    /** Media upload: an upload is not a post, so an error without an answer never makes the delivery unknown. */
    const upload = async <T>(call: () => Promise<T>): Promise<T> => {
      try {
        return await call();
      } catch (error) {
        throw mapXError(error, 'media');
      }
    };

    const chunkBytes = options.mediaChunkBytes ?? 1024 * 1024;
    const processingMaxMs = options.mediaProcessingMaxMs ?? 60_000;
    const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));

    async function uploadMedia(u: MediaUpload): Promise<{ mediaId: string }> {
      const init = await v2.post<UploadAnswer>('media/upload/initialize', {
        media_type: u.mediaType,
        total_bytes: u.totalBytes,
        media_category: u.category,
      });
      const id = init.data?.id;
      if (!id) throw retryable('x_unavailable', 'X answered the media initialize without an id');
      for (let start = 0, segment = 0; start < u.totalBytes; start += chunkBytes, segment++) {
        const media = await u.read(start, Math.min(u.totalBytes, start + chunkBytes));
        // multipart, the body X's OpenAPI and twitter-api-v2's own helper use
        await v2.post(
          `media/upload/${id}/append`,
          { segment_index: segment, media },
          { forceBodyMode: 'form-data' },
        );
      }
      let info = (await v2.post<UploadAnswer>(`media/upload/${id}/finalize`)).data?.processing_info;
      // twitter-api-v2's waitForMediaProcessing stops silently without check_after_secs (X-API.md §9): ours polls
      let waited = 0;
      while (info && info.state !== 'succeeded') {
        if (info.state === 'failed')
          throw permanent('media_type_not_supported', 'X could not process the media (processing failed)');
        const wait = Math.max(1, info.check_after_secs ?? 1) * 1000;
        if (waited + wait > processingMaxMs) {
          throw retryable(
            'x_unavailable',
            `X was still processing the media after ${Math.round(waited / 1000)} s`,
          );
        }
        await sleep(wait);
        waited += wait;
        info = (await v2.get<UploadAnswer>('media/upload', { command: 'STATUS', media_id: id })).data
          ?.processing_info;
      }
      return { mediaId: id };
    }

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

    /** `media.media_ids` as X's OpenAPI types it: 1–4 ids (a mutable tuple in twitter-api-v2's types). */
    const mediaOf = (ids?: readonly string[]) =>
      ids?.length ? { media: { media_ids: [...ids] as [string] } } : {};

    return {
      reply: (text, inReplyToTweetId, mediaIds) =>
        write('reply', async () => ({
          xId: requireId((await v2.reply(text, inReplyToTweetId, mediaOf(mediaIds))).data?.id),
        })),
      post: (text, mediaIds) =>
        write('post', async () => ({
          xId: requireId((await v2.tweet({ text, ...mediaOf(mediaIds) })).data?.id),
        })),
      sendDm: (target, text, mediaId) =>
        write('dm', async () => {
          // one attachment per DM (X-API.md §9)
          const message = mediaId
            ? { text, attachments: [{ media_id: mediaId }] as [{ media_id: string }] }
            : { text };
          const sent = isDmConversationId(target)
            ? await v2.sendDmInConversation(target, message)
            : await v2.sendDmToParticipant(target, message);
          // X answers `{ data: { dm_conversation_id, dm_event_id } }`; twitter-api-v2 1.29.1 types it unwrapped.
          const body = sent as unknown as { data?: { dm_event_id?: string }; dm_event_id?: string };
          return { xId: requireId(body.data?.dm_event_id ?? body.dm_event_id) };
        }),
      findEarlierDelivery: (q) => lookup(() => (q.kind === 'dm' ? findDm(q) : findPost(q))),
      uploadMedia: (u) => upload(() => uploadMedia(u)),
    };
  };
}
