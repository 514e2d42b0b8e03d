/**
 * The public message contracts of x-channel (fixed in DESIGN.md "Contracts").
 * JSON Schemas in `schemas/` are generated from these by `npm run schemas`; a test fails when they differ.
 */
import * as z from 'zod/mini';
import { en } from 'zod/locales';

// zod/mini (not the classic API) keeps the Lambda bundles small: it tree-shakes to the checks in use.
// Unlike classic zod it sets no error-message locale by itself; English names what is wrong.
z.config(en());

export const INBOUND_SCHEMA = 'x-channel.inbound.v1' as const;
export const OUTBOUND_SCHEMA = 'x-channel.outbound.v1' as const;
export const RESULT_SCHEMA = 'x-channel.result.v1' as const;

/** X ids are decimal strings of up to 19 digits. */
const xId = z.string().check(z.regex(/^[0-9]{1,19}$/, 'must be an X id (1–19 digits)'));
/** One-to-one DM conversations are `<smaller id>-<larger id>`; group ones a single id. */
const dmConversationId = z
  .string()
  .check(z.regex(/^([0-9]{1,19}-[0-9]{1,19}|[0-9]{1,19})$/, 'must be an X DM conversation id'));
const isoDate = z.iso.datetime({ offset: true });
const channelId = z
  .string()
  .check(z.minLength(1), z.maxLength(64), z.regex(/^[A-Za-z0-9_-]+$/, 'must be a channel id'));
const nonEmpty = () => z.string().check(z.minLength(1));

export const inboundMessageSchema = z
  .strictObject({
    schema: z.literal(INBOUND_SCHEMA),
    /**
     * `x:tweet:<tweet id>` or `x:dm:<dm event id>`; `x:chat:<XChat message id>` for an encrypted XChat
     * message (X gives those a UUID, not a numeric id). The FIFO MessageDeduplicationId is `<channelId>:<id>`.
     */
    id: z.string().check(z.regex(/^x:((tweet|dm):[0-9]{1,19}|chat:[A-Za-z0-9-]{1,64})$/)),
    channelId,
    account: z.strictObject({ id: xId, username: nonEmpty() }),
    kind: z.enum(['mention', 'dm']),
    /** The post's `conversation_id` (thread root), or the `dm_conversation_id`. */
    conversationId: nonEmpty(),
    author: z.strictObject({
      id: xId,
      username: z.string(),
      name: z.string(),
      avatarUrl: z.nullable(z.string()),
    }),
    text: z.string(),
    createdAt: isoDate,
    inReplyToId: z.nullable(xId),
    /**
     * Media: `photo`, `video`, `animated_gif`. Every `url` opens without X credentials: a mention's is
     * X's public URL (a photo's URL, a video's or GIF's best mp4 variant by bit rate); a DM's is a
     * time-limited presigned URL of the media bucket (the connector downloaded it with the channel's
     * token). Additive in v1 (optional): `contentType`, `bytes`, `altText` (the author's description)
     * where known, `previewUrl`, the still of a video or GIF, and for a DM attachment the connector
     * could not download `unavailable: true` with `unavailableReason` (`url` is then `""`).
     */
    attachments: z.array(
      z.strictObject({
        type: z.string(),
        url: z.string(),
        contentType: z.optional(z.string()),
        bytes: z.optional(z.number().check(z.int(), z.gte(0))),
        altText: z.optional(z.string()),
        previewUrl: z.optional(z.string()),
        unavailable: z.optional(z.literal(true)),
        unavailableReason: z.optional(
          z.enum([
            'too_large',
            'timeout',
            'not_found',
            'refused',
            'rate_limited',
            'x_unavailable',
            'storage_failed',
            'not_configured',
          ]),
        ),
      }),
    ),
    /** Exactly what an outbound command needs to answer this message. */
    replyTo: z.strictObject({ kind: z.enum(['reply', 'dm']), targetId: nonEmpty() }),
    receivedAt: isoDate,
    /**
     * Extension (optional): a DM deep link to the account that an agent can paste into a public reply,
     * the safer alternative to auto-follow for letting a customer DM the account.
     */
    dmLink: z.optional(z.string()),
    /**
     * Additive in v1 (optional): true for an XChat (encrypted) message the connector could not read.
     * `text` is then `""` and `attachments` empty; `author`, `conversationId` and `replyTo` (a DM to the
     * sender) are set, so an agent sees that the customer wrote and can answer.
     */
    encrypted: z.optional(z.boolean()),
  })
  .register(z.globalRegistry, {
    title: 'x-channel inbound message v1',
    description: 'One per mention or DM of a connected X account.',
  });

const outboundBase = {
  schema: z.literal(OUTBOUND_SCHEMA),
  /** Client-chosen; x-channel posts at most once per (channelId, idempotencyKey). */
  idempotencyKey: z.string().check(z.minLength(1), z.maxLength(128)),
  channelId,
  text: z.string(),
  mediaUrls: z.optional(z.array(z.url()).check(z.maxLength(4))),
};

export const outboundCommandSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({ ...outboundBase, kind: z.literal('reply'), targetId: xId }),
    z.strictObject({ ...outboundBase, kind: z.literal('dm'), targetId: z.union([xId, dmConversationId]) }),
    z.strictObject({ ...outboundBase, kind: z.literal('post') }),
  ])
  .register(z.globalRegistry, {
    title: 'x-channel outbound command v1',
    description:
      'A reply, DM or post the case system asks x-channel to publish. `targetId` is a tweet id for `reply`, a dm_conversation_id or user id for `dm`, absent for `post`.',
  });

/** Machine-readable failure codes of a `failed` result (documented in docs/contracts.md). */
export const RESULT_ERROR_CODES = [
  'invalid_input',
  'key_reuse',
  'text_too_long',
  'media_too_large',
  'media_type_not_supported',
  'media_source_not_allowed',
  'media_not_found',
  'media_scope_missing',
  'duplicate_content',
  'dm_not_allowed',
  'target_not_found',
  'reply_not_allowed',
  'needs_reauth',
  'rate_limited',
  'access_level',
  'credits_depleted',
  'budget_exhausted',
  'channel_not_found',
  'channel_not_ready',
  'post_not_allowed',
  'unknown_delivery_state',
  'x_unavailable',
  'internal',
] as const;
export type ResultErrorCode = (typeof RESULT_ERROR_CODES)[number];

const resultBase = {
  schema: z.literal(RESULT_SCHEMA),
  idempotencyKey: z.string().check(z.minLength(1), z.maxLength(128)),
  channelId: nonEmpty(),
  at: isoDate,
};

export const resultMessageSchema = z
  .discriminatedUnion('status', [
    z.strictObject({ ...resultBase, status: z.literal('sent'), xId: nonEmpty() }),
    z.strictObject({
      ...resultBase,
      status: z.literal('failed'),
      error: z.strictObject({
        code: z.enum(RESULT_ERROR_CODES),
        message: z.string(),
        retryable: z.boolean(),
      }),
    }),
  ])
  .register(z.globalRegistry, {
    title: 'x-channel result v1',
    description: 'Exactly one per outbound command.',
  });

export type InboundMessage = z.infer<typeof inboundMessageSchema>;
export type OutboundCommand = z.infer<typeof outboundCommandSchema>;
export type ResultMessage = z.infer<typeof resultMessageSchema>;

export type ParseResult<T> =
  { ok: true; value: T } | { ok: false; error: string; partial?: Record<string, unknown> };

/** Formats zod issues as `field: problem; field: problem` — names what is wrong, never echoes values. */
export function describeIssues(error: z.core.$ZodError): string {
  return error.issues
    .map((i) => `${i.path.length ? i.path.join('.') : '(body)'}: ${i.message}`)
    .slice(0, 10)
    .join('; ');
}

function parseJson<T>(schema: z.ZodMiniType<T>, body: string): ParseResult<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    return { ok: false, error: 'body is not valid JSON' };
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, value: parsed.data };
  const partial =
    raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : undefined;
  return { ok: false, error: describeIssues(parsed.error), partial };
}

/** Parses an SQS body as an outbound command. Never throws. */
export const parseOutbound = (body: string) => parseJson(outboundCommandSchema, body);
export const parseInbound = (body: string) => parseJson(inboundMessageSchema, body);
export const parseResult = (body: string) => parseJson(resultMessageSchema, body);

export const contractSchemas = {
  'inbound.v1': inboundMessageSchema,
  'outbound.v1': outboundCommandSchema,
  'result.v1': resultMessageSchema,
} as const;
