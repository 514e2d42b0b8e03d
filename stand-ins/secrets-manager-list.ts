/**
 * `ListSecrets` of the Secrets Manager stand-in, as the API reference (`ListSecrets`, `Filter`) and
 * the user guide ("Find secrets") describe it:
 * - Filters: `name`, `tag-key`, `tag-value`, `primary-region`, `owning-service` match a prefix,
 *   case-sensitive; `description` and `all` match words, not case-sensitive (the value is split into
 *   words at spaces and punctuation, lower→upper case changes and letter↔digit changes, and every
 *   word must begin a word of one attribute; `all` looks at name, description, tag keys and values).
 *   A value starting with `!` negates. Values of one filter are alternatives (OR); filters combine
 *   with AND. Up to 10 filters of 1 to 10 values, each value at most 512 characters of
 *   `a-zA-Z0-9 :_@/+=.-!`.
 * - `SortBy` (`created-date` by default, `last-accessed-date`, `last-changed-date`, `name`) and
 *   `SortOrder` (`asc` by default here: AWS documents no default), ties in creation order.
 * - `MaxResults` 1–100 (default 100); `NextToken` is opaque and tied to the request's filters and
 *   order: anything else is `InvalidNextTokenException`. Secrets scheduled for deletion are listed
 *   only with `IncludePlannedDeletion`.
 */
import { createHash } from 'node:crypto';
import { AwsError, regionOfArn, type Input, type Secret } from './secrets-manager-store';

const FILTER_KEYS = [
  'description',
  'name',
  'tag-key',
  'tag-value',
  'primary-region',
  'owning-service',
  'all',
];
const SORT_BY = ['created-date', 'last-accessed-date', 'last-changed-date', 'name'] as const;
const VALUE_PATTERN = /^!?[a-zA-Z0-9 :_@/+=.\-!]*$/;

type Filter = { key: string; values: string[] };

function invalid(message: string): never {
  throw new AwsError('InvalidParameterException', message);
}

function readFilters(raw: unknown): Filter[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw) || raw.length > 10) invalid('Filters must be a list of at most 10 filters.');
  return raw.map((f: { Key?: unknown; Values?: unknown }, i) => {
    if (typeof f?.Key !== 'string' || !FILTER_KEYS.includes(f.Key)) {
      invalid(`Filters[${i}].Key must be one of ${FILTER_KEYS.join(', ')}.`);
    }
    const values = f.Values;
    if (
      !Array.isArray(values) ||
      values.length < 1 ||
      values.length > 10 ||
      values.some((v) => typeof v !== 'string' || v.length > 512 || !VALUE_PATTERN.test(v))
    ) {
      invalid(
        `Filters[${i}].Values must hold 1 to 10 values of at most 512 characters of a-z A-Z 0-9 and space : _ @ / + = . - !`,
      );
    }
    return { key: f.Key, values: values as string[] };
  });
}

/** Words as the search splits them: `credsDatabase#892` → `creds`, `Database`, `892`. */
export function searchWords(text: string): string[] {
  return text
    .split(/[^A-Za-z0-9]+/)
    .flatMap((part) => part.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+/g) ?? [])
    .map((w) => w.toLowerCase());
}

/** Every word of `value` begins some word of one of `attributes`, not case-sensitive. */
function wordsMatch(value: string, attributes: string[]): boolean {
  const wanted = searchWords(value);
  if (wanted.length === 0) return false;
  return attributes.some((attr) => {
    const words = searchWords(attr);
    return wanted.every((w) => words.some((word) => word.startsWith(w)));
  });
}

function attributeMatch(s: Secret, key: string, value: string): boolean {
  const prefix = (candidates: (string | undefined)[]) =>
    candidates.some((c) => c !== undefined && c.startsWith(value));
  switch (key) {
    case 'name':
      return prefix([s.name]);
    case 'tag-key':
      return prefix(s.tags.map((t) => t.Key));
    case 'tag-value':
      return prefix(s.tags.map((t) => t.Value));
    case 'primary-region':
      return prefix([regionOfArn(s.arn)]);
    case 'owning-service':
      return false; // no secret here is managed by another service
    case 'description':
      return wordsMatch(value, s.description ? [s.description] : []);
    default: // 'all'
      return wordsMatch(value, [
        s.name,
        ...(s.description ? [s.description] : []),
        ...s.tags.flatMap((t) => [t.Key, t.Value]),
      ]);
  }
}

const matches = (s: Secret, f: Filter) =>
  f.values.some((v) =>
    v.startsWith('!') ? !attributeMatch(s, f.key, v.slice(1)) : attributeMatch(s, f.key, v),
  );

function sortKey(s: Secret, by: (typeof SORT_BY)[number]): number | string {
  switch (by) {
    case 'name':
      return s.name;
    case 'last-accessed-date':
      return s.lastAccessedDate ?? 0;
    case 'last-changed-date':
      return s.lastChangedDate;
    default:
      return s.createdDate;
  }
}

/** One page of `ListSecrets`; `entry` renders a secret as a `SecretListEntry`. */
export function listSecrets<E>(
  secrets: Secret[],
  input: Input,
  entry: (s: Secret) => E,
): { SecretList: E[]; NextToken?: string } {
  const filters = readFilters(input.Filters);
  const max = input.MaxResults ?? 100;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 100) {
    invalid('MaxResults must be an integer from 1 to 100.');
  }
  const order = input.SortOrder ?? 'asc';
  if (order !== 'asc' && order !== 'desc') invalid('SortOrder must be asc or desc.');
  const by = (input.SortBy ?? 'created-date') as (typeof SORT_BY)[number];
  if (!SORT_BY.includes(by)) invalid(`SortBy must be one of ${SORT_BY.join(', ')}.`);
  const includeDeleted = input.IncludePlannedDeletion === true;

  // The token names the request it belongs to, so one from another listing is refused.
  const query = createHash('sha256')
    .update(JSON.stringify([filters, order, by, includeDeleted]))
    .digest('base64url')
    .slice(0, 16);
  let start = 0;
  if (input.NextToken !== undefined) {
    const m =
      typeof input.NextToken === 'string'
        ? /^(\d{1,9})\.([A-Za-z0-9_-]{16})$/.exec(Buffer.from(input.NextToken, 'base64url').toString())
        : null;
    if (!m || m[2] !== query) {
      throw new AwsError('InvalidNextTokenException', 'The NextToken value is invalid.');
    }
    start = Number(m[1]);
  }

  // Ties (same timestamp) keep creation order: `secrets` comes in the order the secrets were made.
  const sign = order === 'asc' ? 1 : -1;
  const all = secrets
    .map((s, i) => ({ s, i, k: sortKey(s, by) }))
    .filter(({ s }) => includeDeleted || s.deletedDate === undefined)
    .filter(({ s }) => filters.every((f) => matches(s, f)))
    .sort((a, b) => sign * (a.k < b.k ? -1 : a.k > b.k ? 1 : a.i - b.i))
    .map(({ s }) => s);
  const page = all.slice(start, start + max).map(entry);
  const next =
    start + max < all.length ? Buffer.from(`${start + max}.${query}`).toString('base64url') : undefined;
  return { SecretList: page, ...(next ? { NextToken: next } : {}) };
}
