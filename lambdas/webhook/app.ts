/**
 * `GET|POST /x/webhook` (DESIGN.md "Admin API"; X-API.md §7, §9): X's CRC on GET, signed X Activity
 * API events on POST. Public route: the signature is the check.
 * - GET `?crc_token=` → 200 `{"response_token":"sha256=…"}`, only for a token of the shape X sends
 *   (no signing oracle: core/realtime/signing.ts); any other → 400;
 * - POST: a body over `WEBHOOK_MAX_BODY_BYTES` → 413 (before any HMAC); a missing or wrong
 *   `x-twitter-webhooks-signature` over the RAW body → 401, nothing read, written or published; a signed
 *   body that is not an XAA delivery → 400; otherwise the events are delivered (core/realtime/webhook.ts)
 *   and only once they are on the inbound queue → 200. A failure on the way → 503 (X's redelivery,
 *   replay or the reconciliation poll brings the items again; the ledger keeps them single);
 * - no `apiKeySecret` in the X app secret → 503 naming what to configure, for GET and POST alike.
 * API Gateway may hand the body base64-encoded (`isBase64Encoded`): it is decoded to the exact bytes
 * X signed before anything else.
 */
import { randomUUID } from 'node:crypto';
import middy, { type MiddlewareObj } from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { isChannelError } from '../../core/errors';
import {
  crcResponseToken,
  crcTokenProblem,
  SIGNATURE_HEADER,
  verifySignature,
} from '../../core/realtime/signing';
import { recordHandlerError } from '../../core/realtime/outages';
import { onReplayStatus, REALTIME_WATCH_SOURCE } from '../../core/realtime/watch';
import {
  deliverEvents,
  parseReplayStatus,
  parseWebhookBody,
  type WebhookReport,
} from '../../core/realtime/webhook';
import { problem } from '../api/problem';
import { securityHeaders } from '../shared/security-headers';
import type { WebhookRuntime } from './compose';

type Result = APIGatewayProxyStructuredResultV2;

const json = (statusCode: number, body: unknown): Result => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

/** The exact bytes the client sent (API Gateway base64-encodes bodies it does not take for text). */
export function rawBodyOf(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>): Buffer {
  if (!event.body) return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}

/** The API key secret, or the problem answer saying why there is none. */
async function apiKeySecretOf(runtime: WebhookRuntime, requestId: string): Promise<string | Result> {
  let secret: string | undefined;
  try {
    secret = (await runtime.credentials.get()).apiKeySecret;
  } catch (e) {
    const code = isChannelError(e) ? e.code : 'internal';
    runtime.logger.warn('webhook: X app credentials unavailable', { requestId, errorCode: code });
    return problem({
      status: 503,
      code: 'x_app_unavailable',
      title: 'X app credentials unavailable',
      detail: isChannelError(e) ? e.message : 'the X app secret could not be read',
      requestId,
      headers: { 'retry-after': '30' },
    });
  }
  if (secret) return secret;
  return problem({
    status: 503,
    code: 'webhook_not_configured',
    title: 'Real time is not configured',
    detail:
      'the X app secret has no "apiKeySecret" (the app’s API Key Secret, i.e. its OAuth 1.0a consumer secret): ' +
      'add "apiKey" and "apiKeySecret" to it (README, "Configure X") to answer X’s CRC and check signatures',
    requestId,
  });
}

function recordMetrics(runtime: WebhookRuntime, report: WebhookReport) {
  const m = runtime.metrics;
  m.addMetric('WebhookEvents', MetricUnit.Count, report.events);
  if (report.published) m.addMetric('WebhookPublished', MetricUnit.Count, report.published);
  if (report.duplicates) m.addMetric('WebhookDuplicates', MetricUnit.Count, report.duplicates);
  const unknown = Object.values(report.unknownTypes).reduce((a, b) => a + b, 0);
  if (unknown) m.addMetric('WebhookUnknownEvents', MetricUnit.Count, unknown);
  const malformed = Object.values(report.malformed).reduce((a, b) => a + b, 0);
  if (malformed) m.addMetric('WebhookMalformedEvents', MetricUnit.Count, malformed);
  if (report.unroutable) m.addMetric('WebhookUnroutableEvents', MetricUnit.Count, report.unroutable);
  if (report.revoked) m.addMetric('WebhookRevoked', MetricUnit.Count, report.revoked);
}

/** The plain async handler over a composed runtime. */
export function createWebhookHandler(runtime: WebhookRuntime) {
  const { config, deps, logger: log } = runtime;
  let lastNoted = Number.NEGATIVE_INFINITY;
  const channelNoted = new Map<string, number>();
  return async (event: APIGatewayProxyEventV2, context?: Context): Promise<Result> => {
    const requestId = event.requestContext?.requestId ?? context?.awsRequestId ?? randomUUID();
    const method = (event.requestContext?.http?.method ?? 'GET').toUpperCase();
    if (method !== 'GET' && method !== 'POST') {
      return problem({
        status: 405,
        code: 'method_not_allowed',
        title: 'Method not allowed',
        detail: `${method.slice(0, 10)} is not allowed on /x/webhook; allowed: GET, POST`,
        requestId,
        headers: { allow: 'GET, POST' },
      });
    }

    // size first: nothing is hashed, read or fetched for an oversized body
    const raw = method === 'POST' ? rawBodyOf(event) : Buffer.alloc(0);
    if (raw.length > config.WEBHOOK_MAX_BODY_BYTES) {
      return problem({
        status: 413,
        code: 'body_too_large',
        title: 'Request entity too large',
        detail: `the body has ${raw.length} bytes; at most ${config.WEBHOOK_MAX_BODY_BYTES} are accepted`,
        requestId,
      });
    }

    const secret = await apiKeySecretOf(runtime, requestId);
    if (typeof secret !== 'string') return secret;

    if (method === 'GET') {
      const token = event.queryStringParameters?.crc_token;
      const why = crcTokenProblem(token);
      if (why) {
        return problem({
          status: 400,
          code: 'validation',
          title: 'Invalid request',
          detail: `query.crc_token: ${why}`,
          errors: [{ field: 'query.crc_token', message: why }],
          requestId,
        });
      }
      return json(200, { response_token: crcResponseToken(token!, secret) });
    }

    if (!verifySignature(raw, event.headers?.[SIGNATURE_HEADER], secret)) {
      runtime.metrics.addMetric('WebhookRejected', MetricUnit.Count, 1);
      log.warn('webhook: signature refused', {
        requestId,
        signed: Boolean(event.headers?.[SIGNATURE_HEADER]),
      });
      return problem({
        status: 401,
        code: 'invalid_signature',
        title: 'Invalid signature',
        detail: `${SIGNATURE_HEADER} is missing or is not X's signature of this body`,
        errors: [{ field: `header.${SIGNATURE_HEADER}`, message: 'missing or wrong signature' }],
        requestId,
      });
    }

    const text = raw.toString('utf8');
    // X's replay completion is a body of its own (`{"replay_job_status":{…}}`), not an XAA event
    const replayStatus = parseReplayStatus(text);
    if (replayStatus) {
      try {
        const outcome = await onReplayStatus(runtime.realtime, replayStatus);
        log.info('webhook: replay job status', { requestId, jobState: replayStatus.job_state, outcome });
        return json(200, { received: 1 });
      } catch (e) {
        log.warn('webhook: replay job status not recorded', { requestId, errorName: (e as Error)?.name });
        return unavailable(requestId, e);
      }
    }

    const parsed = parseWebhookBody(text);
    if (!parsed.ok) {
      log.warn('webhook: signed body is not an X Activity API delivery', {
        requestId,
        problem: parsed.error,
      });
      return problem({
        status: 400,
        code: 'validation',
        title: 'Invalid request',
        detail: `body: ${parsed.error}`,
        errors: [{ field: 'body', message: parsed.error }],
        requestId,
      });
    }

    try {
      const report = await deliverEvents(deps, parsed.value, ({ eventType, problem: why }) =>
        log.warn('webhook: event payload not readable', { requestId, eventType, problem: why }),
      );
      recordMetrics(runtime, report);
      // X bills each delivered event (once per object and UTC day) once we answer 2xx
      await runtime.spendEvents?.(parsed.value);
      const { channelIds, encryptedByChannel, ...counts } = report;
      log.info('webhook delivery', { requestId, ...counts });
      await noteEvent(channelIds);
      // health counts XChat messages: a small write per channel, only for deliveries that carry one
      for (const [channelId, n] of Object.entries(encryptedByChannel))
        await runtime
          .countEncrypted?.(channelId, n)
          .catch((err: Error) =>
            log.warn('webhook: encrypted DM count not recorded', { channelId, errorName: err?.name }),
          );
      return json(200, { received: report.events });
    } catch (e) {
      const code = isChannelError(e) ? e.code : 'internal';
      log.warn('webhook: delivery failed, not acknowledged', {
        requestId,
        errorCode: code,
        errorName: (e as Error)?.name,
      });
      // X does not retry a v2 delivery: the watch replays the minutes around this one
      await recordHandlerError(runtime.realtime, deps.clock).catch((err: Error) =>
        log.warn('webhook: outage window not recorded', { requestId, errorName: err?.name }),
      );
      return unavailable(requestId, e);
    }
  };

  /**
   * Moves each channel's `realtimeLastEventAt` (health's "last event") and the app's `lastEventAt` mark
   * (the watch's quiet rule), each at most once a minute per process: one small write, not one per event.
   */
  async function noteEvent(channelIds: string[]) {
    const now = deps.clock.now();
    const at = now.toISOString();
    for (const id of channelIds) {
      if (now.getTime() - (channelNoted.get(id) ?? Number.NEGATIVE_INFINITY) < 60_000) continue;
      channelNoted.set(id, now.getTime());
      await runtime
        .touchLastEvent?.(id, at)
        .catch((err: Error) =>
          log.warn('webhook: channel last event not recorded', { channelId: id, errorName: err?.name }),
        );
    }
    if (now.getTime() - lastNoted < 60_000) return;
    lastNoted = now.getTime();
    await runtime.realtime
      .advanceMark('lastEventAt', now)
      .catch((err: Error) => log.warn('webhook: lastEventAt not recorded', { errorName: err?.name }));
  }
}

function unavailable(requestId: string, e: unknown): Result {
  const code = isChannelError(e) ? e.code : 'internal';
  return problem({
    status: 503,
    code: isChannelError(e) && e.kind === 'retryable' ? code : 'internal',
    title: 'Temporarily unavailable',
    detail: 'the events could not be queued; nothing was acknowledged',
    requestId,
    headers: { 'retry-after': '5' },
  });
}

/**
 * Whether a Lambda event is the watch schedule's (EventBridge Scheduler's input `{source}`, or an
 * EventBridge "Scheduled Event" as the local scheduler sends), not an HTTP request.
 */
export const isScheduledEvent = (event: unknown): boolean =>
  Boolean(
    event &&
    typeof event === 'object' &&
    !('requestContext' in event) &&
    ('detail-type' in event || (event as { source?: unknown }).source === REALTIME_WATCH_SOURCE),
  );

/** The watch tick the schedule invokes (core/realtime/watch.ts); a failed tick throws, the next redoes it. */
export function createWatchHandler(runtime: WebhookRuntime) {
  return async () => {
    // every XAA_RECONCILE_EVERY_MINUTES: subscriptions at X against the channels (beside the watch)
    const minute = Math.floor(runtime.deps.clock.now().getTime() / 60_000);
    const reconcile =
      minute % runtime.config.XAA_RECONCILE_EVERY_MINUTES === 0
        ? runtime.reconcile().then(
            (r) => runtime.logger.info('subscriptions reconciled', { ...r }),
            (e: Error) => runtime.logger.warn('subscriptions not reconciled', { errorName: e?.name }),
          )
        : undefined;
    // the delivered ledger's sweep, whatever the watch does (it settles the poller's holds too)
    const settle = runtime.settlePending().then(
      (r) => {
        if (r.republished) runtime.metrics.addMetric('LedgerRepublished', MetricUnit.Count, r.republished);
        if (r.unproven) {
          runtime.metrics.addMetric('LedgerUnproven', MetricUnit.Count, r.unproven);
          runtime.logger.warn('pending deliveries published after the dedup window', { ...r });
        } else if (r.pending) runtime.logger.info('pending deliveries settled', { ...r });
      },
      (e: Error) => runtime.logger.warn('pending deliveries not settled', { errorName: e?.name }),
    );
    const report = await runtime
      .watch()
      .finally(() => reconcile)
      .finally(() => settle);
    if (report.opened.length)
      runtime.metrics.addMetric('RealtimeOutages', MetricUnit.Count, report.opened.length);
    if (report.started) runtime.metrics.addMetric('RealtimeReplayJobs', MetricUnit.Count, 1);
    runtime.logger.info('real-time watch tick', { ...report, opened: report.opened.join(',') });
    return report;
  };
}

/**
 * The handler as deployed: middy + security headers (lambdas/shared/security-headers.ts), Powertools
 * logger context and metrics around `createWebhookHandler`.
 */
export function createApp(runtime: WebhookRuntime) {
  return (
    middy<APIGatewayProxyEventV2, Result>()
      // outermost: `nosniff` (and HSTS over https) on every answer
      .use(securityHeaders() as MiddlewareObj<APIGatewayProxyEventV2, Result>)
      .use(injectLambdaContext(runtime.logger))
      .use(logMetrics(runtime.metrics))
      .handler(createWebhookHandler(runtime))
  );
}

/** The watch as deployed: Powertools logger context and metrics around `createWatchHandler`. */
export function createWatchApp(runtime: WebhookRuntime) {
  return middy()
    .use(injectLambdaContext(runtime.logger))
    .use(logMetrics(runtime.metrics))
    .handler(createWatchHandler(runtime));
}
