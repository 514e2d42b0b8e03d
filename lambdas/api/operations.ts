/**
 * The admin API's operations, one per `operationId` of the route table (lib/routes.ts, `function:
 * 'api'`), and the request parsing they share. `app.ts` picks the operation for the event's
 * `routeKey`, checks the caller and maps errors; an operation only parses, calls core and serializes.
 * The local host and the CDK construct read the routes from the table; a test checks that every
 * route of the api function has exactly one operation here.
 */
import { randomBytes } from 'node:crypto';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyResultV2,
  APIGatewayProxyStructuredResultV2,
} from 'aws-lambda';
import type * as z from 'zod/mini';
import { serveConsole } from '../../console/serve';
import { createChannel, deleteChannel, getChannel, listChannels, patchChannel } from '../../core/channels';
import { completeSignIn, startAuthorization, type SignInOutcome } from '../../core/sign-in';
import { invalidInput, isChannelError } from '../../core/errors';
import { discardGrant, retryRevocation, type PendingRevocation } from '../../core/revocations';
import { sha256Hex } from '../../core/oauth';
import type { ROUTES } from '../../lib/routes';
import { registerSecretValue } from '../shared/logger';
import { renderCallbackPage } from './callback-page';
import { removeRealtime, syncRealtime } from './realtime';
import type { ApiDeps } from './compose';
import { fieldProblems, problem, validationProblem } from './problem';
import {
  authorizeBodySchema,
  channelIdSchema,
  createChannelBodySchema,
  deleteQuerySchema,
  listQuerySchema,
  patchChannelBodySchema,
} from './schemas';
import { serializeChannel, serializeHealth } from './serialize';
import { budgetOnlyAnswer, costOperations, meteredSignIn, setChannelBudget } from './cost-operations';
import { alertOperations } from './alert-operations';

/** What an operation gets. */
export interface RouteContext {
  event: APIGatewayProxyEventV2;
  deps: ApiDeps;
  /** Path parameters API Gateway (or the local host) matched from the route's pattern. */
  params: Record<string, string>;
  /** The admin's `sub` claim (admin routes only). */
  sub: string | null;
  requestId: string;
}

/** One route's implementation. */
export type Operation = (ctx: RouteContext) => Promise<APIGatewayProxyResultV2>;

/** The operations of the routes the table gives the api function. */
export type ApiOperationId = Extract<(typeof ROUTES)[number], { function: 'api' }>['operationId'];

/** Thrown by request parsing; the handler turns it into a 4xx problem. */
export class RequestProblem extends Error {
  constructor(readonly response: APIGatewayProxyStructuredResultV2) {
    super('request problem');
  }
}

export const json = (
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
  body: JSON.stringify(body),
});

function header(event: APIGatewayProxyEventV2, name: string): string | undefined {
  const headers = event.headers ?? {};
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v ?? undefined;
  return undefined;
}

export function parseOrThrow<S extends z.ZodMiniType>(
  schema: S,
  value: unknown,
  prefix: string,
  requestId: string,
): z.infer<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw new RequestProblem(validationProblem(fieldProblems(r.error, prefix), requestId));
  return r.data;
}

/**
 * Reads the JSON body: size limit (413), content type (415), base64 (API Gateway may encode), JSON
 * syntax (400). `optional` bodies may be absent.
 */
export function readJsonBody(ctx: RouteContext, optional = false): unknown {
  const { event, deps, requestId } = ctx;
  const raw = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  const limit = deps.config.MAX_BODY_BYTES;
  if (bytes.length > limit) {
    throw new RequestProblem(
      problem({
        status: 413,
        code: 'body_too_large',
        title: 'Request body too large',
        detail: `the body is ${bytes.length} bytes; at most ${limit} are accepted`,
        errors: [{ field: 'body', message: `must be at most ${limit} bytes` }],
        requestId,
      }),
    );
  }
  if (bytes.length === 0) {
    if (optional) return {};
    throw new RequestProblem(
      validationProblem([{ field: 'body', message: 'a JSON object is required' }], requestId),
    );
  }
  const type = header(event, 'content-type');
  if (type && !/^application\/([a-z.+-]*\+)?json\s*(;|$)/i.test(type)) {
    throw new RequestProblem(
      problem({
        status: 415,
        code: 'unsupported_media_type',
        title: 'Unsupported media type',
        detail: `content-type must be application/json, not ${type.slice(0, 100)}`,
        errors: [{ field: 'header.content-type', message: 'must be application/json' }],
        requestId,
      }),
    );
  }
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new RequestProblem(validationProblem([{ field: 'body', message: 'is not valid JSON' }], requestId));
  }
}

/** A deleted channel's pending revocation as `GET /channels` lists it (openapi PendingRevocation). */
const serializePending = (r: PendingRevocation) => ({
  channelId: r.channelId,
  name: r.name,
  account: r.account,
  deletedAt: r.deletedAt,
  attempts: r.attempts,
  lastAttemptAt: r.lastAttemptAt,
  lastError: r.lastError,
  nextAttemptAt: r.nextAttemptAt,
});

export function channelIdParam(ctx: RouteContext): string {
  return parseOrThrow(channelIdSchema, ctx.params.id, 'path.id', ctx.requestId);
}

function requestOrigin(event: APIGatewayProxyEventV2): string {
  const host =
    header(event, 'x-forwarded-host') ??
    header(event, 'host') ??
    event.requestContext?.domainName ??
    'localhost';
  const proto =
    header(event, 'x-forwarded-proto')?.split(',')[0].trim() ??
    (/^(localhost|127\.|\[::1\])/.test(host) ? 'http' : 'https');
  return `${proto}://${host}`;
}

const bindingCookieName = (state: string) => `xc_oauth_${sha256Hex(state).slice(0, 16)}`;

/** `If-Match: "3"` / `W/"3"` / `3` → 3. */
function ifMatchVersion(ctx: RouteContext): number | undefined {
  const raw = header(ctx.event, 'if-match');
  if (raw === undefined) return undefined;
  const m = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(raw);
  if (!m || Number(m[1]) < 1) {
    throw new RequestProblem(
      validationProblem(
        [{ field: 'header.if-match', message: 'must be the channel version as an ETag, e.g. "3"' }],
        ctx.requestId,
      ),
    );
  }
  return Number(m[1]);
}

const serveConsoleRoute: Operation = async (ctx) => serveConsole(ctx.event);

/** The api function's operations, by the `operationId` of their route (lib/routes.ts). */
export const operations: Readonly<Record<ApiOperationId, Operation>> = {
  getConsole: serveConsoleRoute,
  getConsoleAsset: serveConsoleRoute,
  ...costOperations,
  ...alertOperations,
  async createChannel(ctx) {
    const body = parseOrThrow(createChannelBodySchema, readJsonBody(ctx), 'body', ctx.requestId);
    const { channel, warnings } = await createChannel(ctx.deps, body);
    ctx.deps.logger.info('channel created', { channelId: channel.id, adminSub: ctx.sub });
    return json(
      201,
      { ...serializeChannel(channel), warnings },
      { location: `/channels/${channel.id}`, etag: `"${channel.version}"` },
    );
  },
  async listChannels(ctx) {
    const query = parseOrThrow(
      listQuerySchema,
      ctx.event.queryStringParameters ?? {},
      'query',
      ctx.requestId,
    );
    const page = await listChannels(ctx.deps, query).catch((e) => {
      if (isChannelError(e) && e.kind === 'invalid_input' && e.field === 'cursor') {
        throw invalidInput('query.cursor', 'not a cursor returned by this API');
      }
      throw e;
    });
    // Deleted channels whose grant X has not revoked yet, on the first page ("deleted, revocation pending").
    // (A grant a re-authorization replaced is retried by the schedule alone: its channel is listed above.)
    const pendingRevocations =
      !query.cursor && ctx.deps.revocations
        ? (await ctx.deps.revocations.list()).filter((r) => r.kind === 'deleted').map(serializePending)
        : [];
    return json(200, {
      items: page.items.map(serializeChannel),
      nextCursor: page.nextCursor ?? null,
      pendingRevocations,
    });
  },
  async getChannel(ctx) {
    const channel = await getChannel(ctx.deps, channelIdParam(ctx));
    return json(200, serializeChannel(channel), { etag: `"${channel.version}"` });
  },
  async patchChannel(ctx) {
    const id = channelIdParam(ctx);
    const { version, monthlyBudgetUsd, ...body } = parseOrThrow(
      patchChannelBodySchema,
      readJsonBody(ctx),
      'body',
      ctx.requestId,
    );
    const fromHeader = ifMatchVersion(ctx);
    if (fromHeader !== undefined && version !== undefined && fromHeader !== version) {
      throw invalidInput('body.version', `differs from If-Match (${fromHeader})`);
    }
    if (Object.keys(body).length === 0 && monthlyBudgetUsd === undefined) {
      throw invalidInput('body', 'name at least one field to change');
    }
    // the budget lives beside the channel (core/cost/budget.ts); set first, so a 404 sets nothing
    if (monthlyBudgetUsd !== undefined) {
      await setChannelBudget(ctx, id, monthlyBudgetUsd);
      if (Object.keys(body).length === 0) return budgetOnlyAnswer(ctx, id, monthlyBudgetUsd);
    }
    const patched = await patchChannel(ctx.deps, id, {
      ...body,
      expectedVersion: version ?? fromHeader,
    });
    const { warnings } = patched;
    let { channel } = patched;
    // a switch, pause or resume changes what the channel subscribes to at X
    if (['listenMentions', 'listenDms', 'paused'].some((k) => k in body))
      channel = (await syncRealtime(ctx.deps, id)) ?? channel;
    ctx.deps.logger.info('channel changed', {
      channelId: id,
      adminSub: ctx.sub,
      fields: Object.keys(body),
    });
    const budget = monthlyBudgetUsd !== undefined ? { monthlyBudgetUsd } : {};
    return json(200, { ...serializeChannel(channel), ...budget, warnings }, { etag: `"${channel.version}"` });
  },
  async deleteChannel(ctx) {
    const id = channelIdParam(ctx);
    const { discardGrant: discard } = parseOrThrow(
      deleteQuerySchema,
      ctx.event.queryStringParameters ?? {},
      'query',
      ctx.requestId,
    );
    // A channel deleted while X was down: retry its revocation now, or discard the grant on purpose.
    const pending = ctx.deps.revocations && (await ctx.deps.revocations.get(id));
    if (pending) {
      const deps = { ...ctx.deps, revocations: ctx.deps.revocations! };
      const outcome = discard ? await discardGrant(deps, pending) : await retryRevocation(deps, pending);
      ctx.deps.logger.info('pending revocation', { channelId: id, adminSub: ctx.sub, ...outcome });
      return json(200, { id, deleted: true, ...outcome });
    }
    await removeRealtime(ctx.deps, id);
    const outcome = await deleteChannel(ctx.deps, id);
    ctx.deps.logger.info('channel deleted', {
      channelId: outcome.id,
      adminSub: ctx.sub,
      revokedAtX: outcome.revokedAtX,
    });
    return json(200, outcome);
  },
  async authorizeChannel(ctx) {
    const id = channelIdParam(ctx);
    parseOrThrow(authorizeBodySchema, readJsonBody(ctx, true), 'body', ctx.requestId);
    const { config } = ctx.deps;
    const origin = requestOrigin(ctx.event);
    const binding = config.OAUTH_BROWSER_BINDING === 'strict' ? randomBytes(32).toString('base64url') : null;
    const result = await startAuthorization(ctx.deps, {
      channelId: id,
      adminSub: ctx.sub!,
      redirectUri: config.OAUTH_REDIRECT_URI ?? `${origin}/oauth/callback`,
      browserBindingHash: binding ? sha256Hex(binding) : null,
    });
    const state = new URL(result.authorizeUrl).searchParams.get('state')!;
    const secure = origin.startsWith('https:') ? '; Secure' : '';
    ctx.deps.logger.info('sign-in started', { channelId: id, adminSub: ctx.sub });
    return {
      ...json(200, result),
      ...(binding
        ? {
            cookies: [
              `${bindingCookieName(state)}=${binding}; Path=/oauth/callback; Max-Age=600; HttpOnly; SameSite=Lax${secure}`,
            ],
          }
        : {}),
    };
  },
  async getChannelHealth(ctx) {
    const channel = await getChannel(ctx.deps, channelIdParam(ctx));
    // X's app-wide write budgets are shared by every channel: say when one is spent (DESIGN.md)
    const appBudgets = ctx.deps.appBudgets ? await ctx.deps.appBudgets() : undefined;
    return json(200, { ...serializeHealth(channel), ...(appBudgets ? { appBudgets } : {}) });
  },
  async oauthCallback(ctx) {
    const { event, deps } = ctx;
    const q = new URLSearchParams(event.rawQueryString ?? '');
    const single = (k: string) => {
      const all = q.getAll(k);
      return all.length === 1 ? all[0] : all.length > 1 ? '\u0000repeated' : undefined;
    };
    const state = single('state');
    const code = single('code');
    // the authorization code is a credential until X redeems it: masked wherever it would be logged
    if (code !== '\u0000repeated') registerSecretValue(code);
    const error = single('error');
    const cookieName = state ? bindingCookieName(state) : undefined;
    const cookies = event.cookies ?? [];
    const browserBinding = cookieName
      ? cookies
          .map((c) => c.trim())
          .find((c) => c.startsWith(`${cookieName}=`))
          ?.slice(cookieName.length + 1)
      : undefined;
    const repeated = [state, code, error].includes('\u0000repeated');
    const outcome: SignInOutcome = repeated
      ? {
          ok: false,
          error: 'invalid_request',
          status: 400,
          message: 'The sign-in answer repeats a parameter. Start again from the console.',
        }
      : await meteredSignIn(deps, () => completeSignIn(deps, { state, code, error, browserBinding }));
    deps.logger.info('sign-in callback', {
      channelId: outcome.channelId,
      outcome: outcome.ok ? 'connected' : outcome.error,
      accountId: outcome.ok ? outcome.account.id : undefined,
    });
    // the channel's X Activity API subscriptions, before the page: events flow once it says connected
    if (outcome.ok) await syncRealtime(deps, outcome.channelId);
    if (outcome.ok && deps.pollJobs) {
      // Poll right away so the admin sees traffic without waiting for the next dispatcher tick.
      // Best effort: the channel is due now in the dispatcher's index anyway.
      await deps.pollJobs
        .send([{ channelId: outcome.channelId, tick: deps.clock.now().toISOString() }])
        .then((r) => {
          if (r.failed.length) deps.logger.warn('first poll not queued', { channelId: outcome.channelId });
        })
        .catch(() => deps.logger.warn('first poll not queued', { channelId: outcome.channelId }));
    }
    const consoleOrigin = deps.config.CONSOLE_ORIGIN ?? requestOrigin(event);
    const clear =
      cookieName && browserBinding
        ? [`${cookieName}=; Path=/oauth/callback; Max-Age=0; HttpOnly; SameSite=Lax`]
        : [];
    return renderCallbackPage(outcome, consoleOrigin, { cookies: clear });
  },
};
