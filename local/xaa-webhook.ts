/**
 * `npm start` against the simulated X: registers the local `/x/webhook` as the app's webhook, as a
 * deployment registers its public URL at X (X-API.md §7: `POST /2/webhooks` with the app-only bearer
 * token from the API key and secret; X runs a CRC against the URL first, which the local webhook
 * function answers). Idempotent across restarts: a webhook already registered for this URL is
 * re-validated (`PUT /2/webhooks/:id`) instead of registered twice. Subscriptions per channel are the
 * subscription lifecycle's job (issue 16 item 2), not this module's.
 */
export interface LocalWebhookRegistration {
  /** The simulated X's origin. */
  xBaseUrl: string;
  apiKey: string;
  apiKeySecret: string;
  /** The URL X is to call, e.g. `http://127.0.0.1:4000/x/webhook`. */
  webhookUrl: string;
}

/** Registers (or re-validates) the webhook; resolves to its id and validity, or throws with X's answer. */
export async function registerLocalWebhook(
  r: LocalWebhookRegistration,
): Promise<{ id: string; valid: boolean }> {
  const tokenRes = await fetch(`${r.xBaseUrl}/oauth2/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${r.apiKey}:${r.apiKeySecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  if (!tokenRes.ok) throw new Error(`app bearer token refused (HTTP ${tokenRes.status})`);
  const bearer = ((await tokenRes.json()) as { access_token?: string }).access_token;
  if (!bearer) throw new Error('app bearer token answer had no access_token');
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${r.xBaseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${bearer}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const json = (text ? JSON.parse(text) : {}) as { data?: unknown; errors?: Array<{ message?: string }> };
    if (!res.ok) {
      throw new Error(
        `${method} ${path} answered ${res.status}: ${json.errors?.[0]?.message ?? 'no detail'}`,
      );
    }
    return json;
  };
  const listed = (await call('GET', '/2/webhooks')).data as
    Array<{ id: string; url: string; valid: boolean }> | undefined;
  const existing = listed?.find((w) => w.url === r.webhookUrl);
  if (existing) {
    if (!existing.valid) await call('PUT', `/2/webhooks/${existing.id}`);
    return { id: existing.id, valid: true };
  }
  const created = (await call('POST', '/2/webhooks', { url: r.webhookUrl })).data as {
    id: string;
    valid: boolean;
  };
  return { id: created.id, valid: created.valid };
}
