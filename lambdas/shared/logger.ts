/**
 * The one Powertools logger (STYLE.md §6). Secrets never reach the output:
 * - keys that name a secret (token, secret, verifier, authorization, password, cookie) are masked;
 * - every secret value the process has seen (registered by the token vault and the X app secret
 *   adapter through `registerSecretValue`) is replaced wherever it appears inside any string.
 */
import { Logger } from '@aws-lambda-powertools/logger';

const SECRET_KEY = /(token|secret|verifier|authorization|password|cookie|^code$|auth_?code)/i;
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
  return out;
}

export function redactSecrets(key: string, value: unknown): unknown {
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
