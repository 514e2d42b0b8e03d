/**
 * The only place twitter-api-v2 clients are built. The library's base URL is hard-coded
 * (X-API.md §8): to reach the simulated X we rewrite the parsed URL in an `onBeforeRequest` plugin and,
 * for plain-HTTP origins, pass an `http.Agent` (the library always calls `https.request`). The
 * library is never patched. With the defaults it talks to real X.
 */
import http from 'node:http';
import https from 'node:https';
import {
  TwitterApi,
  type TwitterApiPluginResponseOverride,
  type ITwitterApiClientPlugin,
} from 'twitter-api-v2';

export const X_API_ORIGIN = 'https://api.x.com';
export const X_AUTHORIZE_URL = 'https://x.com/i/oauth2/authorize';

export interface XEndpoints {
  /** Origin of the X API, e.g. `https://api.x.com` or `http://127.0.0.1:4010`. */
  apiBaseUrl: string;
  /** Request timeout per call in ms (X's own is long; ours must fit in the Lambda's timeout). */
  timeoutMs?: number;
}

export interface RateLimitObservation {
  endpoint: string;
  method: string;
  limit: number;
  remaining: number;
  /** Epoch seconds. */
  reset: number;
}

export interface XClientSettings extends XEndpoints {
  /** Called after every X response that carried `x-rate-limit-*` headers (ok or error). */
  onRateLimit?: (observation: RateLimitObservation) => void;
  /** Counts every request made (for the benchmark and tests). */
  onRequest?: (info: { method: string; path: string }) => void;
  /** Sees every successful answer (the spend meter prices it: core/cost/billable.ts). Must not throw. */
  onResponse?: (call: XResponseSeen) => void;
}

/** One successful X answer as the response hook sees it. */
export interface XResponseSeen {
  method: string;
  path: string;
  status: number;
  /** The request body as sent (JSON for v2 writes). */
  requestBody?: string;
  data: unknown;
}

const agents = new Map<string, http.Agent>();
function agentFor(origin: URL): http.Agent {
  const key = origin.protocol;
  let agent = agents.get(key);
  if (!agent) {
    agent =
      origin.protocol === 'http:'
        ? new http.Agent({ keepAlive: true, maxSockets: 64 })
        : new https.Agent({ keepAlive: true, maxSockets: 64 });
    agents.set(key, agent);
  }
  return agent;
}

/** Normalises an X API path to its endpoint template, e.g. `/2/users/123/mentions` → `/2/users/:id/mentions`. */
export function endpointTemplate(path: string): string {
  return path
    .replace(/\/2\/users\/[0-9]+\//, '/2/users/:id/')
    .replace(/\/dm_conversations\/with\/[0-9]+\//, '/dm_conversations/with/:participant_id/')
    .replace(/\/dm_conversations\/[0-9-]+\//, '/dm_conversations/:dm_conversation_id/')
    .replace(/\/2\/media\/upload\/[0-9]+\//, '/2/media/upload/:id/');
}

function plugins(settings: XClientSettings): ITwitterApiClientPlugin[] {
  const base = new URL(settings.apiBaseUrl);
  const rewrite = base.origin !== X_API_ORIGIN;
  const observe = (
    method: string,
    url: URL,
    rateLimit?: { limit: number; remaining: number; reset: number },
  ) => {
    if (!rateLimit || !settings.onRateLimit) return;
    settings.onRateLimit({ endpoint: endpointTemplate(url.pathname), method, ...rateLimit });
  };
  return [
    {
      onBeforeRequestConfig({ params }) {
        // Bound every call so a hung X (or an injected timeout) surfaces as ApiRequestError in time.
        if (params.timeout === undefined) params.timeout = settings.timeoutMs ?? DEFAULT_X_TIMEOUT_MS;
      },
      onBeforeRequest({ computedParams }) {
        if (rewrite) {
          computedParams.url.protocol = base.protocol;
          computedParams.url.host = base.host;
        }
        settings.onRequest?.({
          method: computedParams.method,
          path: endpointTemplate(computedParams.url.pathname),
        });
      },
      onAfterRequest({ computedParams, response }): TwitterApiPluginResponseOverride | void {
        observe(computedParams.method, computedParams.url, response.rateLimit);
        const body = computedParams.body;
        settings.onResponse?.({
          method: computedParams.method,
          path: computedParams.url.pathname,
          status: 200,
          requestBody: typeof body === 'string' ? body : undefined,
          data: response.data,
        });
      },
      onResponseError({ computedParams, error }) {
        observe(computedParams.method, computedParams.url, error.rateLimit);
      },
    },
  ];
}

function clientSettings(settings: XClientSettings) {
  return {
    plugins: plugins(settings),
    httpAgent: agentFor(new URL(settings.apiBaseUrl)),
  };
}

/** An app client for OAuth 2.0 (authorize link, code exchange, refresh, revoke). */
export function createXAppClient(settings: XClientSettings & { clientId: string; clientSecret: string }) {
  return new TwitterApi(
    { clientId: settings.clientId, clientSecret: settings.clientSecret },
    clientSettings(settings),
  );
}

/**
 * A client with the app's API key and secret (OAuth 1.0a consumer key/secret): `appLogin()` turns it
 * into the app-only bearer client the Webhooks and X Activity API endpoints take (X-API.md §9).
 */
export function createXConsumerClient(settings: XClientSettings & { apiKey: string; apiKeySecret: string }) {
  return new TwitterApi(
    { appKey: settings.apiKey, appSecret: settings.apiKeySecret },
    clientSettings(settings),
  );
}

/** A user-context client acting for one connected account. */
export function createXUserClient(settings: XClientSettings & { accessToken: string }) {
  const client = new TwitterApi(settings.accessToken, clientSettings(settings));
  return client;
}

/** The per-request timeout to pass to calls, for callers that want one. */
export const DEFAULT_X_TIMEOUT_MS = 10_000;
