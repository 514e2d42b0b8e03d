/**
 * The one Powertools logger (STYLE.md §6). Secrets never reach the output:
 * - keys that name a secret (token, secret, verifier, authorization, password, cookie, and the OAuth
 *   authorization code as `authorizationCode`, `authCode`, `oauthCode`, `auth_code`) are masked;
 * - a bare `code` key is how results and errors are named (`rate_limited`, `channel_not_found`), so it
 *   stays readable when its value has the shape of such a code (snake_case words); any other `code`
 *   value (an OAuth authorization code is long mixed-case base64url) is masked;
 * - every secret value the process has seen (registered by the token vault, the X app secret adapter
 *   and the sign-in callback, which registers the authorization code it received, through
 *   `registerSecretValue`) is replaced wherever it appears inside any string;
 * - secret query parameters in URLs (`code=`, `code_verifier=`, `client_secret=`, `*_token=`,
 *   `state=`) have their values masked inside any string.
 */
import { Logger } from '@aws-lambda-powertools/logger';

const SECRET_KEY = /(token|secret|verifier|authorization|password|cookie|auth_?code)/i;
/** A result or error code: snake_case words such as `rate_limited`, never a credential's shape. */
const RESULT_CODE = /^[a-z]+(?:_[a-z0-9]+)*$/;
/** Secret query parameters inside a URL or form body: the value after `=` is masked. */
const SECRET_PARAM =
  /([?&;](?:code|code_verifier|client_secret|access_token|refresh_token|id_token|token|state)=)[^&#\s"'<>]+/gi;
/** Keys that look secret-ish but hold safe values. */
const SAFE_KEYS = new Set(['tokenExpiresAt', 'nextToken', 'paginationToken']);
const secretValues = new Set<string>();

/** Remembers a secret value so that it is masked anywhere it would be logged. Values < 8 chars are ignored. */
export function registerSecretValue(value: string | undefined | null): void {
  if (value && value.length >= 8) secretValues.add(value);
}

export function scrubString(text: string): string {
  let out = text;
  for (const v of secretValues) if (out.includes(v)) out = out.split(v).join('***');
  return out.includes('=') ? out.replace(SECRET_PARAM, '$1***') : out;
}

export function redactSecrets(key: string, value: unknown): unknown {
  if (key === 'code' && value !== null && value !== undefined) {
    return typeof value === 'string' && RESULT_CODE.test(value) && value.length <= 64
      ? scrubString(value)
      : '***';
  }
  if (key && !SAFE_KEYS.has(key) && SECRET_KEY.test(key) && value !== null && value !== undefined) {
    return typeof value === 'object' ? '[redacted]' : '***';
  }
  if (typeof value === 'string') return scrubString(value);
  return value;
}

export function createLogger(options: { serviceName?: string; logLevel?: string } = {}): Logger {
  return new Logger({
    serviceName: options.serviceName ?? process.env.POWERTOOLS_SERVICE_NAME ?? 'x-channel',
    logLevel: (options.logLevel ?? process.env.LOG_LEVEL ?? 'INFO') as 'INFO',
    jsonReplacerFn: redactSecrets,
  });
}

export const logger = createLogger();
