/**
 * The X Activity API subscription endpoints and the webhook list (X-API.md §7, §9) through
 * twitter-api-v2's generic v2 calls (the library has no XAA helpers): the app-only bearer token
 * (`appLogin()` with the API key and secret) lists webhooks and subscriptions and deletes them; a
 * subscription to a user's private events is created with that user's OAuth 2.0 token.
 *
 * X's refusals are turned into `ChannelError`s with the codes core/realtime/subscriptions.ts reads.
 * X names its XAA failure reasons (`SubscriptionLimitExceeded`, `DuplicateSubscriptionFailed`, …) in
 * `errors[].message` of a problem body; they are matched there and in the problem's text.
 */
import { ApiResponseError, type TwitterApi } from 'twitter-api-v2';
import { ChannelError, isChannelError, permanent } from '../../core/errors';
import type { XActivity, XSubscription } from '../../core/realtime/subscriptions';
import { registerSecretValue } from '../../lambdas/shared/logger';
import type { AppCredentialsProvider } from '../aws/secrets-app-credentials';
import { createXConsumerClient, createXUserClient } from './client';
import { mapXError } from './errors';

export interface XActivityOptions {
  apiBaseUrl: string;
  credentials: AppCredentialsProvider;
  /** The deployment's `/x/webhook` URL; absent: the app's only webhook, if it has exactly one. */
  webhookUrl?: string;
  timeoutMs?: number;
  /** How long a found webhook id is reused (default 5 min). */
  webhookCacheMs?: number;
  now?: () => number;
}

interface RawSubscription {
  subscription_id?: string;
  id?: string;
  event_type?: string;
  filter?: { user_id?: string };
  tag?: string;
  webhook_id?: string;
}

const toSubscription = (raw: RawSubscription): XSubscription => ({
  id: String(raw.subscription_id ?? raw.id ?? ''),
  eventType: String(raw.event_type ?? ''),
  userId: raw.filter?.user_id ?? null,
  tag: raw.tag ?? null,
  webhookId: raw.webhook_id ?? null,
});

/** X's reason words in a refusal (problem `errors[].message`, `title`, `detail`), lower case. */
function reasonText(e: ApiResponseError): string {
  const body = (e.data ?? {}) as {
    title?: string;
    detail?: string;
    type?: string;
    errors?: Array<{ message?: string; parameters?: Record<string, unknown> }>;
  };
  return [body.title, body.detail, body.type, ...(body.errors ?? []).map((x) => x.message)]
    .filter(Boolean)
    .join(' ')
    .toLowerCase();
}

/** Maps a refused subscription call; anything not XAA-specific goes through `mapXError`. */
export function mapActivityError(e: unknown): ChannelError {
  if (isChannelError(e)) return e;
  if (e instanceof ApiResponseError) {
    const t = reasonText(e);
    const data = (e.data ?? {}) as {
      missing_scopes?: unknown;
      errors?: Array<{ parameters?: Record<string, unknown> }>;
    };
    if (t.includes('subscriptionlimitexceeded') || t.includes('subscription limit'))
      return permanent('subscription_limit', 'the X app reached its subscription limit', e);
    // the webhook the call named is gone at X (deleted, or another app's): no webhook to subscribe to
    if (e.code === 400 && t.includes('webhookidinvalid'))
      return permanent('webhook_missing', 'X no longer holds the webhook this deployment registered', e);
    if (e.code === 409 || t.includes('duplicatesubscription'))
      return permanent('duplicate_subscription', 'X holds this subscription already', e);
    if (e.code === 400 && data.errors?.some((x) => x.parameters && 'event_type' in x.parameters))
      return permanent('event_type_unsupported', 'X does not accept this event type', e);
    if (e.code === 403 && data.missing_scopes)
      return permanent('missing_scope', 'the channel’s token lacks a scope X asks for', e);
  }
  return mapXError(e, 'read');
}

const isGone = (e: unknown) =>
  e instanceof ApiResponseError &&
  (e.code === 404 || (e.code === 400 && reasonText(e).includes('subscriptionidinvalid')));

export function createXActivity(options: XActivityOptions): XActivity {
  const now = options.now ?? Date.now;
  const cacheMs = options.webhookCacheMs ?? 300_000;
  let bearer: Promise<TwitterApi> | undefined;
  let hook: { id: string | null; at: number } | undefined;

  const appClient = (): Promise<TwitterApi> => {
    bearer ??= (async () => {
      const creds = await options.credentials.get();
      if (!creds.apiKey || !creds.apiKeySecret) {
        throw permanent(
          'xaa_not_configured',
          'the X app secret has no apiKey/apiKeySecret: the X Activity API needs them',
        );
      }
      const client = await createXConsumerClient({
        apiBaseUrl: options.apiBaseUrl,
        timeoutMs: options.timeoutMs,
        apiKey: creds.apiKey,
        apiKeySecret: creds.apiKeySecret,
      }).appLogin();
      const tokens = client.getActiveTokens();
      if (tokens.type === 'oauth2') registerSecretValue(tokens.bearerToken);
      return client;
    })().catch((e) => {
      bearer = undefined; // not cached: the next call logs in again
      throw isChannelError(e) ? e : mapXError(e, 'token');
    });
    return bearer;
  };

  /** One bearer call; a refused bearer (rotated key) logs in once more. */
  const withBearer = async <T>(fn: (c: TwitterApi) => Promise<T>): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      const client = await appClient();
      try {
        return await fn(client);
      } catch (e) {
        if (attempt === 0 && e instanceof ApiResponseError && e.code === 401) {
          bearer = undefined;
          continue;
        }
        throw e;
      }
    }
  };

  return {
    async webhookId() {
      if (hook && now() - hook.at < cacheMs) return hook.id;
      try {
        const res = await withBearer((c) =>
          c.v2.get<{ data?: Array<{ id: string; url: string }> }>('webhooks'),
        );
        const hooks = res.data ?? [];
        const found = options.webhookUrl
          ? hooks.find((w) => w.url === options.webhookUrl)
          : hooks.length === 1
            ? hooks[0]
            : undefined;
        hook = { id: found?.id ?? null, at: now() };
        return hook.id;
      } catch (e) {
        throw mapActivityError(e);
      }
    },

    async create({ accessToken, eventType, userId, webhookId, tag }) {
      const user = createXUserClient({
        apiBaseUrl: options.apiBaseUrl,
        accessToken,
        timeoutMs: options.timeoutMs,
      });
      try {
        const res = await user.v2.post<{ data?: { subscription?: RawSubscription } }>(
          'activity/subscriptions',
          { event_type: eventType, filter: { user_id: userId }, tag, webhook_id: webhookId },
        );
        const sub = res.data?.subscription;
        if (!sub) throw permanent('internal', 'X answered a subscription without its id');
        return toSubscription(sub);
      } catch (e) {
        const error = mapActivityError(e);
        // the cached webhook id is stale: the next sync asks X's list again
        if (error.code === 'webhook_missing') hook = undefined;
        throw error;
      }
    },

    async delete(id) {
      try {
        await withBearer((c) => c.v2.delete(`activity/subscriptions/${encodeURIComponent(id)}`));
      } catch (e) {
        if (isGone(e)) return;
        throw mapActivityError(e);
      }
    },

    async list() {
      const out: XSubscription[] = [];
      let token: string | undefined;
      try {
        for (let page = 0; page < 100; page++) {
          const res = await withBearer((c) =>
            c.v2.get<{ data?: RawSubscription[]; meta?: { next_token?: string } }>('activity/subscriptions', {
              max_results: 1000,
              ...(token ? { pagination_token: token } : {}),
            }),
          );
          out.push(...(res.data ?? []).map(toSubscription));
          token = res.meta?.next_token;
          if (!token) break;
        }
      } catch (e) {
        throw mapActivityError(e);
      }
      return out;
    },
  };
}
