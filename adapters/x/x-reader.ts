/**
 * `XReader` on twitter-api-v2: mentions, DM events and follow for one access token. Each page is ONE
 * request carrying every field and expansion the mapping needs (X-API.md §2), so a post is read once.
 * Errors leave as `ChannelError` (adapters/x/errors.ts).
 */
import type {
  MentionsQuery,
  XDmEventsPage,
  XMentionsPage,
  XReader,
  XReaderFactory,
} from '../../core/inbound/types';
import { createXUserClient, type XClientSettings } from './client';
import { mapXError } from './errors';
import { downloadDmMedia } from './x-dm-media';

/** Query fields for `GET /2/users/:id/mentions` (X-API.md §2). */
export const MENTION_FIELDS = {
  'tweet.fields':
    'author_id,created_at,conversation_id,in_reply_to_user_id,referenced_tweets,attachments,entities,note_tweet',
  expansions: 'author_id,referenced_tweets.id,attachments.media_keys',
  'user.fields': 'username,name,profile_image_url',
  'media.fields': 'type,url,preview_image_url,variants,alt_text',
} as const;

/** Query fields for `GET /2/dm_events` (X-API.md §2): the defaults are only id, event_type and text. */
export const DM_EVENT_FIELDS = {
  'dm_event.fields':
    'id,text,event_type,created_at,sender_id,dm_conversation_id,attachments,referenced_tweets',
  expansions: 'sender_id,attachments.media_keys',
  'user.fields': 'username,name,profile_image_url',
  'media.fields': 'type,url,preview_image_url,variants,alt_text',
  event_types: 'MessageCreate',
} as const;

export type XReaderSettings = Omit<XClientSettings, 'onRateLimit'>;

function mentionParams(q: MentionsQuery): Record<string, string | number> {
  const params: Record<string, string | number> = { ...MENTION_FIELDS, max_results: q.maxResults };
  if (q.sinceId) params.since_id = q.sinceId;
  else if (q.startTime) params.start_time = q.startTime;
  if (q.untilId) params.until_id = q.untilId;
  if (q.paginationToken) params.pagination_token = q.paginationToken;
  return params;
}

/** Builds an `XReaderFactory` for the given X origin. */
export function createXReaderFactory(settings: XReaderSettings): XReaderFactory {
  return (accessToken, onRateLimit): XReader => {
    const client = createXUserClient({
      ...settings,
      accessToken,
      onRateLimit: (o) =>
        onRateLimit({
          endpoint: `${o.method} ${o.endpoint}`,
          limit: o.limit,
          remaining: o.remaining,
          reset: o.reset,
        }),
    });
    return {
      async mentions(q) {
        try {
          const body = await client.v2.get<Partial<XMentionsPage>>(
            `users/${q.accountId}/mentions`,
            mentionParams(q),
          );
          return { data: body.data ?? [], includes: body.includes ?? {}, meta: body.meta ?? {} };
        } catch (e) {
          throw mapXError(e, 'read');
        }
      },
      async dmEvents(q) {
        try {
          const params: Record<string, string | number> = { ...DM_EVENT_FIELDS, max_results: q.maxResults };
          if (q.paginationToken) params.pagination_token = q.paginationToken;
          const body = await client.v2.get<Partial<XDmEventsPage>>('dm_events', params);
          return { data: body.data ?? [], includes: body.includes ?? {}, meta: body.meta ?? {} };
        } catch (e) {
          throw mapXError(e, 'read');
        }
      },
      async follow(accountId, targetUserId) {
        try {
          await client.v2.follow(accountId, targetUserId);
        } catch (e) {
          throw mapXError(e, 'follow');
        }
      },
      dmMedia: (ref, bounds) =>
        downloadDmMedia(
          { apiBaseUrl: settings.apiBaseUrl, accessToken, onRateLimit, onRequest: settings.onRequest },
          ref,
          bounds,
        ),
    };
  };
}
