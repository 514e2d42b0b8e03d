/**
 * Request schemas of the admin API. `.strict()` everywhere: an unknown field is refused (a typo such
 * as `listenDM` must not be silently ignored). docs/openapi.yaml mirrors these; a test compares them.
 */
import { z } from 'zod';
import { CHANNEL_ID_PATTERN } from '../../core/oauth';

/**
 * Unicode control (Cc), format (Cf: bidi overrides and isolates, zero-width characters, soft hyphen…)
 * and surrogate (Cs: a lone half of a pair) characters: invisible or reordering text that would let a
 * name pass for another one in the console.
 */
export const SPOOFING_CHARACTERS = /[\p{Cc}\p{Cf}\p{Cs}]/u;

const name = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters')
  .refine(
    (v) => !SPOOFING_CHARACTERS.test(v),
    'must not contain control, format (bidi override, zero-width) or lone surrogate characters',
  )
  .nullable();

export const channelOptionsSchema = z
  .object({
    backfillHours: z.number().int('must be a whole number').min(0).max(168, 'must be at most 168 (7 days)'),
    includeReposts: z.boolean(),
    allowPosts: z.boolean(),
  })
  .partial()
  .strict();

export const createChannelBodySchema = z
  .object({
    listenMentions: z.boolean(),
    listenDms: z.boolean(),
    autoFollow: z.boolean(),
    name: name.optional(),
    options: channelOptionsSchema.optional(),
  })
  .strict();

/** A monthly X budget in USD, or null for none. */
export const budgetUsd = z
  .number()
  .min(0, 'must be 0 or more')
  .max(1_000_000, 'must be at most 1000000')
  .nullable();

export const patchChannelBodySchema = z
  .object({
    listenMentions: z.boolean().optional(),
    listenDms: z.boolean().optional(),
    autoFollow: z.boolean().optional(),
    paused: z.boolean().optional(),
    name: name.optional(),
    options: channelOptionsSchema.optional(),
    /** The channel's monthly X budget in USD (null: none); docs/cost.md. */
    monthlyBudgetUsd: budgetUsd.optional(),
    /** Optimistic concurrency, like `If-Match`: apply only to this version. */
    version: z.number().int().min(1).optional(),
  })
  .strict();

/** `PATCH /settings`: the app-wide settings (docs/cost.md). */
export const patchSettingsBodySchema = z
  .object({
    /** The app's monthly X budget in USD over every channel (null: none). */
    monthlyBudgetUsd: budgetUsd.optional(),
  })
  .strict();

/** `POST /channels/{id}/authorize` takes no input; an empty object is accepted for clients that always send one. */
export const authorizeBodySchema = z.object({}).strict();

export const listQuerySchema = z
  .object({
    limit: z.coerce
      .number()
      .int('must be a whole number')
      .min(1, 'must be 1..100')
      .max(100, 'must be 1..100')
      .default(20),
    cursor: z.string().min(1).max(2048).optional(),
  })
  .strict();

/**
 * `DELETE /channels/{id}`: `discardGrant=true` deletes a pending revocation's grant without revoking it
 * at X (an admin's explicit choice; core/revocations.ts).
 */
export const deleteQuerySchema = z
  .object({
    discardGrant: z
      .enum(['true', 'false'], { message: 'must be true or false' })
      .optional()
      .transform((v) => v === 'true'),
  })
  .strict();

export const channelIdSchema = z
  .string()
  .regex(CHANNEL_ID_PATTERN, 'must be a channel id like ch_ followed by 20 characters a-z, 2-7');

/** Request body schemas by operationId, for the OpenAPI comparison test. */
export const requestBodySchemas = {
  createChannel: createChannelBodySchema,
  patchChannel: patchChannelBodySchema,
  authorizeChannel: authorizeBodySchema,
  patchSettings: patchSettingsBodySchema,
} as const;
