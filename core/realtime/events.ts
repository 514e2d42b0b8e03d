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
import * as z from 'zod/mini';
import type { XDmEventData, XIncludes, XMediaData, XTweetData, XUserData } from '../inbound/types';

// zod/mini (not classic zod): the webhook bundle stays under lib/bundling.ts's byte budget.
const xId = z.string().check(z.regex(/^[0-9]{1,19}$/, 'must be an X id (1–19 digits)'));
const opt = z.optional;
const str = () => z.string();
/** Only logged: X's samples show signed 64-bit decimals as strings; a number is taken as it is. */
const idLike = z.pipe(
  z.union([z.string().check(z.minLength(1), z.maxLength(64)), z.int()]),
  z.transform((v: string | number) => String(v)),
);

export const xaaEventSchema = z.looseObject({
  event_uuid: opt(idLike),
  filter: opt(z.looseObject({ user_id: opt(xId) })),
  event_type: z.string().check(z.minLength(1), z.maxLength(100)),
  tag: opt(z.string().check(z.maxLength(200))),
  payload: z.unknown(),
  includes: opt(z.unknown()),
});

/** One delivery: `data` is one event. */
export const xaaBodySchema = z.looseObject({ data: xaaEventSchema });
/** An array of events is accepted too (bounded), should X ever batch. */
export const xaaBatchBodySchema = z.looseObject({
  data: z.array(xaaEventSchema).check(z.minLength(1), z.maxLength(100)),
});

export type XaaEvent = z.infer<typeof xaaEventSchema>;

const userV2 = z.looseObject({
  id: xId,
  username: opt(str()),
  name: opt(str()),
  profile_image_url: opt(str()),
});
type UserV2 = z.infer<typeof userV2>;
/** A user as XAA may give it: flat, or wrapped in `data` (as in `post.delete` and `dm.*` samples). */
const anyUser = z.pipe(
  z.union([userV2, z.looseObject({ data: userV2 })]),
  z.transform((u: UserV2 | { data: UserV2 }): UserV2 => ('data' in u ? (u.data as UserV2) : u)),
);

const mediaV2 = z.looseObject({
  media_key: str(),
  type: str(),
  url: opt(str()),
  preview_image_url: opt(str()),
});

const includesSchema = opt(
  z.looseObject({
    users: opt(z.array(anyUser)),
    media: opt(z.array(mediaV2)),
  }),
);

export const postPayloadSchema = z.looseObject({
  id: xId,
  text: str(),
  author_id: xId,
  created_at: opt(str()),
  conversation_id: opt(xId),
  in_reply_to_user_id: opt(xId),
  referenced_tweets: opt(z.array(z.looseObject({ type: str(), id: xId }))),
  attachments: opt(z.looseObject({ media_keys: opt(z.array(str())) })),
  note_tweet: opt(z.looseObject({ text: str() })),
});

const dmAttachment = opt(
  z.looseObject({
    type: opt(str()),
    media: opt(
      z.looseObject({
        id_str: opt(str()),
        type: opt(str()),
        media_url_https: opt(str()),
      }),
    ),
  }),
);

const dmEventV11 = z.looseObject({
  type: str(),
  id: xId,
  created_timestamp: z.string().check(z.regex(/^[0-9]{1,16}$/, 'must be epoch milliseconds')),
  message_create: opt(
    z.looseObject({
      target: opt(z.looseObject({ recipient_id: xId })),
      sender_id: xId,
      message_data: opt(z.looseObject({ text: opt(str()), attachment: dmAttachment })),
    }),
  ),
});

const userV11 = z.looseObject({
  id_str: opt(xId),
  id: opt(z.union([xId, z.number()])),
  screen_name: opt(str()),
  name: opt(str()),
  profile_image_url_https: opt(str()),
});

export const dmPayloadSchema = z.looseObject({
  direct_message_events: z.array(dmEventV11).check(z.maxLength(100)),
  users: opt(z.record(z.string(), z.union([z.looseObject({ data: userV2 }), userV2, userV11]))),
});

export const chatPayloadSchema = z.looseObject({
  id: z.string().check(z.regex(/^[A-Za-z0-9-]{1,64}$/, 'must be an XChat message id')),
  sender_id: xId,
  conversation_id: z.string().check(z.minLength(1), z.maxLength(200)),
  created_at_msec: opt(z.union([z.string().check(z.regex(/^[0-9]{1,16}$/)), z.int()])),
  encoded_event: opt(str()),
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
