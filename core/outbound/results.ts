/**
 * Building results and the meaning of each failure code (documented in docs/result-codes.md; a unit
 * test keeps the two in step).
 */
import { RESULT_SCHEMA, type ResultErrorCode, type ResultMessage } from '../../contracts';
import type { OutboundCommand } from '../../contracts';

/**
 * Whether sending the same text again later, under a new idempotency key, may succeed without changing it.
 * The failure itself is stored like every result: a resend under the same key re-emits it.
 */
export const RETRYABLE: Readonly<Record<ResultErrorCode, boolean>> = {
  invalid_input: false,
  key_reuse: false,
  text_too_long: false,
  media_too_large: false,
  media_type_not_supported: false,
  media_source_not_allowed: false,
  media_not_found: false,
  media_scope_missing: true,
  duplicate_content: false,
  dm_not_allowed: false,
  target_not_found: false,
  reply_not_allowed: false,
  needs_reauth: true,
  rate_limited: true,
  access_level: false,
  credits_depleted: true,
  // not until the UTC month rolls or the budget rises (core/cost/budget.ts)
  budget_exhausted: false,
  channel_not_found: false,
  channel_not_ready: true,
  post_not_allowed: false,
  unknown_delivery_state: false,
  x_unavailable: true,
  internal: true,
};

const KNOWN = new Set<string>(Object.keys(RETRYABLE));

/** Narrows any ChannelError code to a result code (unknown codes become `internal`). */
export function toResultCode(code: string): ResultErrorCode {
  if (code === 'x_delivery_unknown') return 'x_unavailable';
  if (code === 'conflict') return 'internal';
  return KNOWN.has(code) ? (code as ResultErrorCode) : 'internal';
}

type CommandRef = Pick<OutboundCommand, 'idempotencyKey' | 'channelId'>;

export function sentResult(command: CommandRef, xId: string, at: Date): ResultMessage {
  return {
    schema: RESULT_SCHEMA,
    idempotencyKey: command.idempotencyKey,
    channelId: command.channelId,
    status: 'sent',
    xId,
    at: at.toISOString(),
  };
}

/** A `failed` result; `retryable` defaults to the code's documented value. */
export function failedResult(
  command: CommandRef,
  code: ResultErrorCode,
  message: string,
  at: Date,
  retryable: boolean = RETRYABLE[code],
): ResultMessage {
  return {
    schema: RESULT_SCHEMA,
    idempotencyKey: command.idempotencyKey,
    channelId: command.channelId,
    status: 'failed',
    error: { code, message, retryable },
    at: at.toISOString(),
  };
}
