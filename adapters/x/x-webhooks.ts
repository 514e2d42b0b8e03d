/**
 * `XWebhooksApi` (core/realtime/watch.ts) over twitter-api-v2 with the app-only bearer token (from the
 * API key and secret through `appLogin()`, cached per process and fetched again after a 401):
 * `GET /2/webhooks`, `PUT /2/webhooks/:id`, `GET /2/activity/subscriptions`, `POST /2/webhooks/replay`
 * (X-API.md §9). A 409 `ReplayConflictError` is the answer `conflict`; any other failure throws a
 * `ChannelError` (adapters/x/errors.ts) without X's body.
 */
import { ApiResponseError, type TwitterApi } from 'twitter-api-v2';
import { retryable } from '../../core/errors';
import { xMinute } from '../../core/realtime/outages';
import type { XWebhook, XWebhooksApi } from '../../core/realtime/watch';
import { createXConsumerClient, type XClientSettings } from './client';

export interface XWebhooksOptions extends XClientSettings {
  /** Gives the API key and secret (the X app secret's `apiKey`/`apiKeySecret`). */
  credentials: () => Promise<{ apiKey?: string; apiKeySecret?: string }>;
}

export function createXWebhooksApi(options: XWebhooksOptions): XWebhooksApi {
  let bearer: Promise<TwitterApi> | undefined;
  const client = () => {
    bearer ??= (async () => {
      const { apiKey, apiKeySecret } = await options.credentials();
      if (!apiKey || !apiKeySecret)
        throw retryable(
          'webhook_not_configured',
          'the X app secret has no "apiKey"/"apiKeySecret": real time (webhook, replay) is off',
        );
      return createXConsumerClient({ ...options, apiKey, apiKeySecret }).appLogin();
    })().catch((e) => {
      bearer = undefined;
      throw e;
    });
    return bearer;
  };
  /** One call; a 401 drops the cached bearer and tries once more. */
  const call = async <T>(what: string, run: (c: TwitterApi) => Promise<T>): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await run(await client());
      } catch (e) {
        if (e instanceof ApiResponseError && e.code === 401 && attempt === 0) {
          bearer = undefined;
          continue;
        }
        if (e instanceof ApiResponseError)
          throw retryable('x_unavailable', `${what} answered HTTP ${e.code}`, undefined, e);
        throw e;
      }
    }
  };
  return {
    async list() {
      const res = await call('GET /2/webhooks', (c) => c.v2.get<{ data?: XWebhook[] }>('webhooks'));
      return (res.data ?? []).map((w) => ({ id: String(w.id), url: String(w.url), valid: w.valid === true }));
    },
    async revalidate(id) {
      try {
        const res = await call('PUT /2/webhooks/:id', (c) =>
          c.v2.put<{ data?: { valid?: boolean } }>(`webhooks/${encodeURIComponent(id)}`),
        );
        return res.data?.valid === true;
      } catch (e) {
        // X answers 400 CrcValidationFailed when our endpoint did not pass the CRC: still invalid
        if ((e as { cause?: unknown }).cause instanceof ApiResponseError) {
          const code = ((e as { cause: ApiResponseError }).cause as ApiResponseError).code;
          if (code === 400) return false;
        }
        throw e;
      }
    },
    async hasSubscriptions(webhookId) {
      let next: string | undefined;
      do {
        const res = await call('GET /2/activity/subscriptions', (c) =>
          c.v2.get<{ data?: Array<{ webhook_id?: string }>; meta?: { next_token?: string } }>(
            'activity/subscriptions',
            { max_results: 1000, ...(next ? { next_token: next } : {}) },
          ),
        );
        if ((res.data ?? []).some((s) => s.webhook_id === webhookId)) return true;
        next = res.meta?.next_token;
      } while (next);
      return false;
    },
    async replay(webhookId, from, to) {
      try {
        const res = await call('POST /2/webhooks/replay', (c) =>
          c.v2.post<{ data?: { job_id?: string } }>('webhooks/replay', {
            webhook_id: webhookId,
            from_date: xMinute(from),
            to_date: xMinute(to),
          }),
        );
        if (!res.data?.job_id) throw retryable('x_unavailable', 'POST /2/webhooks/replay gave no job_id');
        return { jobId: String(res.data.job_id) };
      } catch (e) {
        const cause = (e as { cause?: unknown }).cause;
        if (cause instanceof ApiResponseError && cause.code === 409) return 'conflict';
        throw e;
      }
    },
  };
}
