/**
 * The one closed error taxonomy of x-channel (STYLE.md §5). Adapters turn vendor errors into a
 * `ChannelError`; everything else switches on `kind` with an exhaustive `never` check.
 */
import type { ResultErrorCode } from '../contracts';

export type ErrorKind = 'retryable' | 'needs_reauth' | 'permanent' | 'invalid_input';

export interface ChannelErrorOptions {
  /** Machine-readable code; becomes `result.error.code` for outbound commands. */
  code: ResultErrorCode | string;
  /** Earliest time a retry makes sense (e.g. X's `x-rate-limit-reset`). Only for `retryable`. */
  notBefore?: Date;
  /** For `invalid_input`: the offending field, e.g. `body.listenDms`. */
  field?: string;
  cause?: unknown;
}

export class ChannelError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  readonly notBefore?: Date;
  readonly field?: string;

  /** `message` must be safe to show to a user: no tokens, secrets or raw vendor bodies. */
  constructor(kind: ErrorKind, message: string, options: ChannelErrorOptions) {
    super(message, { cause: options.cause });
    this.name = 'ChannelError';
    this.kind = kind;
    this.code = options.code;
    this.notBefore = options.notBefore;
    this.field = options.field;
  }

  get retryable(): boolean {
    return this.kind === 'retryable';
  }

  /** A log-safe view: never includes `cause` (vendor errors may carry headers with tokens). */
  toJSON() {
    return {
      kind: this.kind,
      code: this.code,
      message: this.message,
      notBefore: this.notBefore?.toISOString(),
      field: this.field,
    };
  }
}

export const retryable = (code: string, message: string, notBefore?: Date, cause?: unknown) =>
  new ChannelError('retryable', message, { code, notBefore, cause });
export const needsReauth = (message: string, cause?: unknown) =>
  new ChannelError('needs_reauth', message, { code: 'needs_reauth', cause });
export const permanent = (code: string, message: string, cause?: unknown) =>
  new ChannelError('permanent', message, { code, cause });
export const invalidInput = (field: string, message: string, code = 'invalid_input') =>
  new ChannelError('invalid_input', `${field}: ${message}`, { code, field });

export const isChannelError = (e: unknown): e is ChannelError => e instanceof ChannelError;

/** Exhaustiveness helper for `switch (error.kind)`. */
export function assertNever(x: never): never {
  throw new Error(`unexpected value: ${String(x)}`);
}
