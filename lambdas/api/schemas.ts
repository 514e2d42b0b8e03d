/**
 * Request schemas of the admin API. `.strict()` everywhere: an unknown field is refused (a typo such
 * as `listenDM` must not be silently ignored). docs/openapi.yaml mirrors these; a test compares them.
 */
import * as z from 'zod/mini';
import { CHANNEL_ID_PATTERN } from '../../core/oauth';

/**
 * Unicode control (Cc), format (Cf: bidi overrides and isolates, zero-width characters, soft hyphen…)
 * and surrogate (Cs: a lone half of a pair) characters: invisible or reordering text that would let a
 * name pass for another one in the console.
 */
export const SPOOFING_CHARACTERS = /[\p{Cc}\p{Cf}\p{Cs}]/u;

// zod/mini (not classic zod): the api bundle stays under lib/bundling.ts's byte budget.
const name = z.nullable(
  z.string().check(
    z.trim(),
    z.minLength(1, 'must not be empty'),
    z.maxLength(100, 'must be at most 100 characters'),
    z.refine(
      (v) => !SPOOFING_CHARACTERS.test(v),
      'must not contain control, format (bidi override, zero-width) or lone surrogate characters',
    ),
  ),
);

const wholeNumber = () => z.number().check(z.int('must be a whole number'));

export const channelOptionsSchema = z.partial(
  z.strictObject({
    backfillHours: wholeNumber().check(z.gte(0), z.lte(168, 'must be at most 168 (7 days)')),
    includeReposts: z.boolean(),
    allowPosts: z.boolean(),
  }),
);

export const createChannelBodySchema = z.strictObject({
  listenMentions: z.boolean(),
  listenDms: z.boolean(),
  autoFollow: z.boolean(),
  name: z.optional(name),
  options: z.optional(channelOptionsSchema),
});

/** A monthly X budget in USD, or null for none. */
export const budgetUsd = z.nullable(
  z.number().check(z.gte(0, 'must be 0 or more'), z.lte(1_000_000, 'must be at most 1000000')),
);

export const patchChannelBodySchema = z.strictObject({
  listenMentions: z.optional(z.boolean()),
  listenDms: z.optional(z.boolean()),
  autoFollow: z.optional(z.boolean()),
  paused: z.optional(z.boolean()),
  name: z.optional(name),
  options: z.optional(channelOptionsSchema),
  /** The channel's monthly X budget in USD (null: none); docs/cost.md. */
  monthlyBudgetUsd: z.optional(budgetUsd),
  /** Optimistic concurrency, like `If-Match`: apply only to this version. */
  version: z.optional(z.number().check(z.int(), z.gte(1))),
});

/** `PATCH /settings`: the app-wide settings (docs/cost.md). */
export const patchSettingsBodySchema = z.strictObject({
  /** The app's monthly X budget in USD over every channel (null: none). */
  monthlyBudgetUsd: z.optional(budgetUsd),
});

/** `POST /channels/{id}/authorize` takes no input; an empty object is accepted for clients that always send one. */
export const authorizeBodySchema = z.strictObject({});

export const listQuerySchema = z.strictObject({
  limit: z._default(
    z.coerce
      .number()
      .check(z.int('must be a whole number'), z.gte(1, 'must be 1..100'), z.lte(100, 'must be 1..100')),
    20,
  ),
  cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(2048))),
});

/**
 * `DELETE /channels/{id}`: `discardGrant=true` deletes a pending revocation's grant without revoking it
 * at X (an admin's explicit choice; core/revocations.ts).
 */
export const deleteQuerySchema = z.strictObject({
  discardGrant: z.pipe(
    z.optional(z.enum(['true', 'false'], { error: 'must be true or false' })),
    z.transform((v: 'true' | 'false' | undefined) => v === 'true'),
  ),
});

export const channelIdSchema = z
  .string()
  .check(z.regex(CHANNEL_ID_PATTERN, 'must be a channel id like ch_ followed by 20 characters a-z, 2-7'));

/** Request body schemas by operationId, for the OpenAPI comparison test. */
export const requestBodySchemas = {
  createChannel: createChannelBodySchema,
  patchChannel: patchChannelBodySchema,
  authorizeChannel: authorizeBodySchema,
  patchSettings: patchSettingsBodySchema,
} as const;
