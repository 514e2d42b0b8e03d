/**
 * The X Activity API (XAA) webhook body, parsed with zod (X-API.md §7, §9; X's "event payloads" page).
 * Every delivery is `{"data":{"event_uuid","filter","event_type","tag","payload","includes"}}`. The
 * envelope is checked strictly enough to route the event; each payload is checked only for the
 * fields the mapping reads (X adds fields freely, so unknown keys are kept, never refused).
 *
 * Payload quirks relied on:
 * - `post.mention.create` / `post.reply.create`: `payload` is a v2 Post, `includes.users` v2 users;
 * - `dm.received`: the v1.1 Account Activity shape `{direct_message_events, users}` WITHOUT
 *   `dm_conversation_id`; `users` maps id → user, either a v2 user wrapped in `data` (XAA's samples)
 *   or a v1.1 user (`screen_name`, `profile_image_url_https`: the AAA shape X-API.md §7 quotes);
 * - `chat.received`: ciphertext (`encoded_event`) plus `id` (a UUID), `sender_id`, `conversation_id`
 *   (`<id>:<id>` for one-to-one) and `created_at_msec`;
 * - `oauth.revoke`: `filter` may be empty; the user is `payload.user_id`.
 */
import { z } from 'zod';
import type { XDmEventData, XIncludes, XMediaData, XTweetData, XUserData } from '../inbound/types';

const xId = z.string().regex(/^[0-9]{1,19}$/, 'must be an X id (1–19 digits)');
/** Only logged: X's samples show signed 64-bit decimals as strings; a number is taken as it is. */
const idLike = z.union([z.string().min(1).max(64), z.number().int()]).transform(String);

export const xaaEventSchema = z.looseObject({
  event_uuid: idLike.optional(),
  filter: z.looseObject({ user_id: xId.optional() }).optional(),
  event_type: z.string().min(1).max(100),
  tag: z.string().max(200).optional(),
  payload: z.unknown(),
  includes: z.unknown().optional(),
});

/** One delivery: `data` is one event. */
export const xaaBodySchema = z.looseObject({ data: xaaEventSchema });
/** An array of events is accepted too (bounded), should X ever batch. */
export const xaaBatchBodySchema = z.looseObject({ data: z.array(xaaEventSchema).min(1).max(100) });

export type XaaEvent = z.infer<typeof xaaEventSchema>;

const userV2 = z.looseObject({
  id: xId,
  username: z.string().optional(),
  name: z.string().optional(),
  profile_image_url: z.string().optional(),
});
/** A user as XAA may give it: flat, or wrapped in `data` (as in `post.delete` and `dm.*` samples). */
const anyUser = z
  .union([userV2, z.looseObject({ data: userV2 })])
  .transform((u) => ('data' in u ? u.data : u));

const mediaV2 = z.looseObject({
  media_key: z.string(),
  type: z.string(),
  url: z.string().optional(),
  preview_image_url: z.string().optional(),
});

const includesSchema = z
  .looseObject({
    users: z.array(anyUser).optional(),
    media: z.array(mediaV2).optional(),
  })
  .optional();

export const postPayloadSchema = z.looseObject({
  id: xId,
  text: z.string(),
  author_id: xId,
  created_at: z.string().optional(),
  conversation_id: xId.optional(),
  in_reply_to_user_id: xId.optional(),
  referenced_tweets: z.array(z.looseObject({ type: z.string(), id: xId })).optional(),
  attachments: z.looseObject({ media_keys: z.array(z.string()).optional() }).optional(),
  note_tweet: z.looseObject({ text: z.string() }).optional(),
});

const dmAttachment = z
  .looseObject({
    type: z.string().optional(),
    media: z
      .looseObject({
        id_str: z.string().optional(),
        type: z.string().optional(),
        media_url_https: z.string().optional(),
      })
      .optional(),
  })
  .optional();

const dmEventV11 = z.looseObject({
  type: z.string(),
  id: xId,
  created_timestamp: z.string().regex(/^[0-9]{1,16}$/, 'must be epoch milliseconds'),
  message_create: z
    .looseObject({
      target: z.looseObject({ recipient_id: xId }).optional(),
      sender_id: xId,
      message_data: z.looseObject({ text: z.string().optional(), attachment: dmAttachment }).optional(),
    })
    .optional(),
});

const userV11 = z.looseObject({
  id_str: xId.optional(),
  id: z.union([xId, z.number()]).optional(),
  screen_name: z.string().optional(),
  name: z.string().optional(),
  profile_image_url_https: z.string().optional(),
});

export const dmPayloadSchema = z.looseObject({
  direct_message_events: z.array(dmEventV11).max(100),
  users: z.record(z.string(), z.union([z.looseObject({ data: userV2 }), userV2, userV11])).optional(),
});

export const chatPayloadSchema = z.looseObject({
  id: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'must be an XChat message id'),
  sender_id: xId,
  conversation_id: z.string().min(1).max(200),
  created_at_msec: z.union([z.string().regex(/^[0-9]{1,16}$/), z.number().int()]).optional(),
  encoded_event: z.string().optional(),
});

export const revokePayloadSchema = z.looseObject({ user_id: xId });

/** An event's `includes` as v2 includes (users unwrapped); unreadable includes are left out, not fatal. */
export function parseIncludes(raw: unknown): XIncludes {
  const inc = includesSchema.safeParse(raw);
  return inc.success && inc.data ? (inc.data as XIncludes) : {};
}

/** The post (v2) and includes of a mention/reply event, in the shapes core/inbound/mapping.ts maps. */
export function toTweet(
  payload: z.infer<typeof postPayloadSchema>,
  includes: unknown,
): { tweet: XTweetData; includes: XIncludes } {
  return { tweet: payload as XTweetData, includes: parseIncludes(includes) };
}

const msToIso = (ms: string | number) => new Date(Number(ms)).toISOString();

/**
 * The v1.1 DM events of a `dm.received` payload in the v2 shape polling reads (`XDmEventData`), and
 * their users/media as v2 `includes`. `dm_conversation_id` stays absent: the mapping builds it.
 */
export function toDmEvents(payload: z.infer<typeof dmPayloadSchema>): {
  events: XDmEventData[];
  includes: XIncludes;
} {
  const users: XUserData[] = [];
  for (const [key, raw] of Object.entries(payload.users ?? {})) {
    const u = 'data' in raw ? (raw.data as z.infer<typeof userV2>) : (raw as Record<string, unknown>);
    const id = String(u.id_str ?? u.id ?? key);
    users.push({
      id,
      username: String(u.username ?? u.screen_name ?? ''),
      name: String(u.name ?? ''),
      ...(u.profile_image_url || u.profile_image_url_https
        ? { profile_image_url: String(u.profile_image_url ?? u.profile_image_url_https) }
        : {}),
    });
  }
  const media: XMediaData[] = [];
  const events: XDmEventData[] = payload.direct_message_events.map((e) => {
    const mc = e.message_create;
    const attached = mc?.message_data?.attachment?.media;
    const out: XDmEventData = {
      id: e.id,
      // v1.1 `message_create` is v2's `MessageCreate`; other v1.1 types are not messages
      event_type: e.type === 'message_create' ? 'MessageCreate' : e.type,
      text: mc?.message_data?.text ?? '',
      created_at: msToIso(e.created_timestamp),
      sender_id: mc?.sender_id,
    };
    if (attached?.media_url_https) {
      const mediaKey = attached.id_str ?? `${e.id}-media`;
      media.push({ media_key: mediaKey, type: attached.type ?? 'photo', url: attached.media_url_https });
      out.attachments = { media_keys: [mediaKey] };
    }
    return out;
  });
  return { events, includes: { users, ...(media.length ? { media } : {}) } };
}

export const chatCreatedAt = (payload: z.infer<typeof chatPayloadSchema>): string | undefined =>
  payload.created_at_msec !== undefined ? msToIso(payload.created_at_msec) : undefined;

export type PostPayload = z.infer<typeof postPayloadSchema>;
export type DmPayload = z.infer<typeof dmPayloadSchema>;
export type ChatPayload = z.infer<typeof chatPayloadSchema>;
