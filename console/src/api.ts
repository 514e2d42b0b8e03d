/**
 * The admin API client. Paths are fixed by DESIGN.md and resolved against the page's own folder, so
 * the console works at `/` and behind an API Gateway stage prefix alike.
 */
import { currentToken } from './auth';
import {
  type ChannelView,
  type HealthView,
  type PendingRevocationView,
  type SwitchKey,
  toChannel,
  toChannelList,
  toHealth,
  toPendingRevocations,
} from './types';
import type { AlertView } from './alerts-banner';

/** A refused or failed API call, with the problem+json `detail` (which names the field) when there is one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Thrown (and reported to `onUnauthorized`) when the API answers 401: the console then shows signed-out. */
export class UnauthorizedError extends ApiError {
  constructor() {
    super(401, 'unauthorized');
    this.name = 'UnauthorizedError';
  }
}

/** What a new channel starts with. */
export interface NewChannel {
  name?: string;
  listenMentions: boolean;
  listenDms: boolean;
  autoFollow: boolean;
}

/** Changes the console makes to a channel. */
export type ChannelPatch = Partial<Record<SwitchKey, boolean>> & { paused?: boolean };

/** Creates the client; `onUnauthorized` runs on every 401 before the call rejects. */
export function createApi(opts: { onUnauthorized: () => void }) {
  const url = (path: string) => new URL(path.replace(/^\//, ''), document.baseURI).toString();

  async function call(method: string, path: string, body?: unknown): Promise<unknown> {
    const token = currentToken();
    if (!token) {
      opts.onUnauthorized();
      throw new UnauthorizedError();
    }
    let res: Response;
    try {
      res = await fetch(url(path), {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json, application/problem+json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
      });
    } catch {
      throw new ApiError(0, 'network error');
    }
    if (res.status === 401) {
      opts.onUnauthorized();
      throw new UnauthorizedError();
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON (e.g. a gateway's HTML error page): the status alone explains it.
    }
    if (!res.ok) {
      const p = (parsed ?? {}) as { detail?: unknown; title?: unknown; code?: unknown };
      const message =
        typeof p.detail === 'string'
          ? p.detail
          : typeof p.title === 'string'
            ? p.title
            : `HTTP ${res.status}`;
      throw new ApiError(res.status, message, typeof p.code === 'string' ? p.code : undefined);
    }
    return parsed;
  }

  const path = (id: string) => `channels/${encodeURIComponent(id)}`;
  return {
    listChannels: async (): Promise<ChannelView[]> => toChannelList(await call('GET', 'channels')),
    getChannel: async (id: string): Promise<ChannelView> => toChannel(await call('GET', path(id))),
    getHealth: async (id: string): Promise<HealthView> => toHealth(await call('GET', `${path(id)}/health`)),
    /** The cost card's data (./cost-card.ts): `GET /channels/{id}/cost` and the health's `budget`. */
    getCost: async (id: string): Promise<unknown> => call('GET', `${path(id)}/cost`),
    getRawHealth: async (id: string): Promise<unknown> => call('GET', `${path(id)}/health`),
    setBudget: async (id: string, monthlyBudgetUsd: number | null): Promise<void> => {
      await call('PATCH', path(id), { monthlyBudgetUsd });
    },
    /** The app-wide card: `GET /settings` (budget and the app's cost), `PATCH /settings`. */
    getSettings: async (): Promise<unknown> => call('GET', 'settings'),
    setAppBudget: async (monthlyBudgetUsd: number | null): Promise<void> => {
      await call('PATCH', 'settings', { monthlyBudgetUsd });
    },
    createChannel: async (input: NewChannel): Promise<ChannelView> =>
      toChannel(await call('POST', 'channels', input)),
    patchChannel: async (id: string, patch: ChannelPatch): Promise<ChannelView | null> => {
      const body = await call('PATCH', path(id), patch);
      return body === undefined ? null : toChannel(body);
    },
    deleteChannel: async (id: string): Promise<void> => {
      await call('DELETE', path(id));
    },
    /** The open alerts (`GET /alerts`), newest first. */
    listAlerts: async (): Promise<AlertView[]> =>
      (((await call('GET', 'alerts')) as { items?: AlertView[] } | null)?.items ?? []).filter(
        (a) => a && typeof a.id === 'string',
      ),
    listPendingRevocations: async (): Promise<PendingRevocationView[]> =>
      toPendingRevocations(await call('GET', 'channels')),
    /** Retries a pending revocation at X (DELETE again); answers whether X revoked it now. */
    retryRevocation: async (id: string): Promise<boolean> => {
      const body = (await call('DELETE', path(id))) as { revokedAtX?: unknown } | undefined;
      return body?.revokedAtX === 'revoked';
    },
    discardGrant: async (id: string): Promise<void> => {
      await call('DELETE', `${path(id)}?discardGrant=true`);
    },
    authorize: async (id: string): Promise<string> => {
      const body = (await call('POST', `${path(id)}/authorize`, {})) as
        { authorizeUrl?: unknown } | undefined;
      if (!body || typeof body.authorizeUrl !== 'string')
        throw new ApiError(500, 'no authorizeUrl in the answer');
      return body.authorizeUrl;
    },
  };
}

/** The admin API client type. */
export type Api = ReturnType<typeof createApi>;
