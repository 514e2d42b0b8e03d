/**
 * The whole-cost model: prices what the scenarios measured (medians of the runs) plus what no request
 * counter sees — CloudWatch Logs ingestion of the INFO log lines and EMF records (measured bytes) and
 * Lambda's own START/END/REPORT lines, X-Ray traces (tracing is on by default), KMS for the SQS and
 * DynamoDB customer-managed key, API Gateway requests of the webhook, the schedule, the event sources'
 * idle polling, Lambda INIT, custom metrics and alarms. Prices and every assumption are in
 * bench/prices.ts; nothing here holds a number of its own.
 *
 * Results (`cost.*`, USD):
 * - `usdPerMillionInboundAt{1,10,100}`: per million inbound messages when each poll invocation carries
 *   1, 10 or 100 of them (the fixed `aws.usdPerMillionInbound` counts measured requests at 100 only);
 * - `usdPerMillionRealtimeEvents`: per million events arriving by webhook;
 * - `idleChannelUsdPerMonth`: one idle channel, real time on, pay-per-use: X (nothing: the sweep proves
 *   DMs delivered, so DM reconciliation reads none; `idleChannel.realtimeUnprovenTotalUsd` without that
 *   proof) + AWS (reconciliation polls, their logs and traces, the token secret);
 * - `idleChannelPollingUsdPerMonth`: the same on a plan without XAA (polled every minute);
 * - `fixedUsdPerMonth`: the deployment's floor, whatever the channel count.
 * Beside them, in DynamoDB requests (measured by the aws scenario, passed through with its spread):
 * `meterDynamodbRequestsPerPoll` and `meterDynamodbRequestsPerSend`, the spend meter's own requests per
 * busy poll and per sender invocation (issue 20: ≤ 1).
 */
import { DEFAULT_RECONCILE_CADENCE } from '../core/inbound/planner';
import { DEFAULT_POLL_LIMITS } from '../core/inbound/poll-types';
import { HANDLERS } from '../lib/handlers';
import { AWS_PRICES, MODEL_ASSUMPTIONS as A, SECONDS_PER_MONTH, X_PRICES, gbSeconds } from './prices';

const GB = 1e9;
const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;
const HOURS_PER_MONTH = SECONDS_PER_MONTH / 3600;

/** Ingestion + a month's storage of `bytes` of log lines. */
export const logUsd = (bytes: number) =>
  (bytes / GB) * (AWS_PRICES.logsIngestPerGb + AWS_PRICES.logsStoragePerGbMonth);

/** Per invocation: Lambda's own log lines and an X-Ray trace. */
export const perInvocationUsd = () =>
  logUsd(A.lambdaPlatformLogBytesPerInvocation) + A.xrayTracedShare * AWS_PRICES.xrayPerTrace;

interface Inputs {
  batches: Record<
    string,
    { messages: number; invocations: number; usdPerMillion: number; logBytesPerMessage: number }
  >;
  idle: {
    usdPerPoll: number;
    invocationsPerPoll: number;
    logBytesPerPoll: number;
    pollsPerMonth: number;
  } | null;
  realtime: {
    awsUsdPerMillionEvents: number | null;
    webhookRequests: number;
    delivered: number;
    logBytesPerEvent: number | null;
  } | null;
  /** X's monthly cost of an idle polled channel (x.idleChannelUsdPerMonth). */
  xPollingIdleUsd: number | null;
  initMs: Record<string, number>;
}

/** The deployment's monthly floor, item by item. */
export function fixedMonthly(initMs: Record<string, number>): Record<string, number> {
  const monthSeconds = SECONDS_PER_MONTH;
  const ticks = monthSeconds / 60;
  const kmsRequests =
    A.sqsKeyPairs * (monthSeconds / A.sqsDataKeyReuseSeconds) +
    A.dynamodbKmsCallers * A.dynamodbKmsCallsPerCallerPerHour * HOURS_PER_MONTH;
  const esmRequests = A.esmIdlePollersPerQueue * (monthSeconds / A.esmLongPollSeconds);
  // one environment per function at idle (the poller two), re-initialised every 1 / environmentInitsPerHour h
  const envs: Record<string, number> = { api: 1, dispatcher: 1, poller: 2, sender: 1, webhook: 1 };
  let initUsd = 0;
  for (const [fn, n] of Object.entries(envs)) {
    const ms = initMs[fn] ?? 0;
    const mb = HANDLERS[fn as keyof typeof HANDLERS]?.memoryMb ?? 512;
    initUsd +=
      n * A.environmentInitsPerHour * HOURS_PER_MONTH * gbSeconds(ms, mb) * AWS_PRICES.lambdaArmPerGbSecond;
  }
  return {
    kmsKeys: 2 * AWS_PRICES.kmsKeyPerMonth,
    kmsRequests: kmsRequests * AWS_PRICES.kmsPerRequest,
    customMetrics: A.customMetrics * AWS_PRICES.customMetricPerMonth,
    alarms: A.alarms * AWS_PRICES.alarmPerMonth,
    schedule: ticks * AWS_PRICES.schedulerPerInvocation,
    dispatcherTicks:
      ticks *
      (AWS_PRICES.lambdaPerRequest +
        gbSeconds(A.dispatcherTickMs, HANDLERS.dispatcher.memoryMb) * AWS_PRICES.lambdaArmPerGbSecond +
        perInvocationUsd()),
    eventSourceIdlePolling:
      esmRequests *
      (A.esmStandardQueues * AWS_PRICES.sqsStandardPerRequest +
        A.esmFifoQueues * AWS_PRICES.sqsFifoPerRequest),
    lambdaInit: initUsd,
    // the delivered ledger's sweep (core/inbound/delivered.ts): one Query of the pending partition a
    // minute, 0.5 RRU while it is empty (the webhook function's watch tick it rides on is not priced here)
    ledgerSweep: ticks * 0.5 * AWS_PRICES.dynamodbPerRru,
    // the real-time sweep (core/realtime/proof.ts), one replay an hour: about 8 small writes (window,
    // marks, job slot, job id, window removal, job end, proven span) and X's replay_job_status through
    // API Gateway into the webhook function (an idle app's sweeps replay no event)
    realtimeSweep:
      HOURS_PER_MONTH *
      (8 * AWS_PRICES.dynamodbPerWru +
        AWS_PRICES.apiGatewayHttpPerRequest +
        AWS_PRICES.lambdaPerRequest +
        perInvocationUsd()),
  };
}

/** The model over explicit inputs (unit-tested); `costSection` reads them from the results. */
export function costModel(inputs: Inputs): Record<string, unknown> {
  const perMillionAt = (k: string) => {
    const b = inputs.batches[k];
    if (!b || !b.messages) return null;
    const invPerMsg = b.invocations / b.messages;
    const perMsg = b.usdPerMillion / 1e6 + logUsd(b.logBytesPerMessage) + invPerMsg * perInvocationUsd();
    return round(perMsg * 1e6, 4);
  };
  const fixed = fixedMonthly(inputs.initMs);
  const fixedUsd = Object.values(fixed).reduce((a, v) => a + v, 0);
  const idle = inputs.idle;
  const perPollUsd = idle
    ? idle.usdPerPoll + logUsd(idle.logBytesPerPoll) + idle.invocationsPerPoll * perInvocationUsd()
    : null;
  const secret = AWS_PRICES.secretsManagerPerSecretMonth;
  // X re-bills the idle DM page once per UTC day that it is read: with real time on the product reads a
  // first page of DEFAULT_RECONCILE_CADENCE.dmIdlePageSize (1) every dmsSeconds (6 h); the polling page is 10
  const dmReadsPerMonth = (everySeconds: number, pageSize: number) =>
    Math.min(30, SECONDS_PER_MONTH / everySeconds) * pageSize;
  const realtimeX = (everySeconds: number, pageSize: number) =>
    dmReadsPerMonth(everySeconds, pageSize) * X_PRICES.dmEventRead;
  const cadence = DEFAULT_RECONCILE_CADENCE;
  // while the sweep proves every DM delivered (core/realtime/proof.ts) the DM reconciliation reads
  // nothing, so X bills an idle channel nothing; without the proof (sweep off, real time down) the
  // first page of dmIdlePageSize events is re-billed each UTC day
  const reconcileXUnproven = realtimeX(cadence.dmsSeconds, cadence.dmIdlePageSize);
  const reconcileX = 0;
  const reconcilePolls = SECONDS_PER_MONTH / cadence.mentionsSeconds;
  const realtimeAws = perPollUsd === null ? null : reconcilePolls * perPollUsd + secret;
  const pollingAws = perPollUsd === null || !idle ? null : idle.pollsPerMonth * perPollUsd + secret;
  const rt = inputs.realtime;
  let perEvent: number | null = null;
  if (rt && rt.delivered && rt.awsUsdPerMillionEvents !== null) {
    const requestsPerEvent = rt.webhookRequests / rt.delivered;
    perEvent =
      rt.awsUsdPerMillionEvents / 1e6 +
      requestsPerEvent * (AWS_PRICES.apiGatewayHttpPerRequest + perInvocationUsd()) +
      logUsd(rt.logBytesPerEvent ?? 0);
  }
  const r4 = (v: number | null) => (v === null ? null : round(v, 4));
  const idleRealtime = realtimeAws === null ? null : realtimeAws + reconcileX;
  return {
    idleChannelUsdPerMonth: r4(idleRealtime),
    idleChannelPollingUsdPerMonth:
      pollingAws === null || inputs.xPollingIdleUsd === null ? null : r4(pollingAws + inputs.xPollingIdleUsd),
    usdPerMillionInboundAt1: perMillionAt('1'),
    usdPerMillionInboundAt10: perMillionAt('10'),
    usdPerMillionInboundAt100: perMillionAt('100'),
    usdPerMillionRealtimeEvents: perEvent === null ? null : round(perEvent * 1e6, 4),
    fixedUsdPerMonth: round(fixedUsd, 2),
    idleChannel: {
      realtimeAwsUsd: r4(realtimeAws),
      realtimeXUsd: r4(reconcileXUnproven),
      realtimeProvenXUsd: r4(reconcileX),
      // the same channel while its DMs are not proven (the 1-event DM page re-billed a UTC day)
      realtimeUnprovenTotalUsd: realtimeAws === null ? null : r4(realtimeAws + reconcileXUnproven),
      // the same channel if its DM reconciliation read the polling page (10 events) every day
      realtimeDmDailyTotalUsd:
        realtimeAws === null ? null : r4(realtimeAws + realtimeX(86_400, DEFAULT_POLL_LIMITS.dmIdlePageSize)),
      pollingAwsUsd: r4(pollingAws),
      pollingXUsd: inputs.xPollingIdleUsd,
      perPollUsd: perPollUsd === null ? null : round(perPollUsd, 8),
      reconcilePollsPerMonth: Math.round(reconcilePolls),
      pollingPollsPerMonth: idle?.pollsPerMonth ?? null,
    },
    fixed: Object.fromEntries(Object.entries(fixed).map(([k, v]) => [k, round(v, 4)])),
    assumptions: {
      ...A,
      reconcileCadence: cadence,
      dmIdlePageSize: DEFAULT_POLL_LIMITS.dmIdlePageSize,
      logGbBytes: GB,
    },
  };
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The `cost` section of the results, from the aggregated `aws`, `realtime`, `x` and `bundles` sections. */
/** The aws scenario's figures the cost section shows as they were measured (`aws.<k>` → `cost.<k>`). */
export const METER_FIGURES = ['meterDynamodbRequestsPerPoll', 'meterDynamodbRequestsPerSend'] as const;

export function costSection(results: Record<string, unknown>): Record<string, unknown> {
  const aws = (results.aws ?? {}) as Record<string, unknown>;
  if (aws.missing || !aws.inboundBatches) {
    return {
      idleChannelUsdPerMonth: null,
      ...Object.fromEntries(METER_FIGURES.map((k) => [k, null])),
      missing: `needs the aws scenario (${String(aws.missing ?? 'not run')})`,
    };
  }
  const rt = (results.realtime ?? {}) as Record<string, unknown>;
  const bundles = (results.bundles ?? {}) as Record<string, Record<string, unknown>>;
  const initMs = Object.fromEntries(
    Object.entries(bundles)
      .filter(([, v]) => v && typeof v === 'object')
      .map(([k, v]) => [k, num(v.initMs) ?? 0]),
  );
  const idle = aws.idle as Inputs['idle'];
  const out = costModel({
    batches: aws.inboundBatches as Inputs['batches'],
    idle: idle && num(idle.usdPerPoll) !== null ? idle : null,
    realtime:
      rt.missing || num(rt.delivered) === null
        ? null
        : {
            awsUsdPerMillionEvents: num(rt.awsUsdPerMillionEvents),
            webhookRequests: num(rt.webhookRequests) ?? 0,
            delivered: num(rt.delivered) ?? 0,
            logBytesPerEvent: num(rt.logBytesPerEvent),
          },
    xPollingIdleUsd: num((results.x as Record<string, unknown> | undefined)?.idleChannelUsdPerMonth),
    initMs,
  });
  const meter = Object.fromEntries(METER_FIGURES.map((k) => [k, num(aws[k])]));
  const notes: string[] = [];
  if (rt.missing) notes.push(`realtime: ${String(rt.missing)}`);
  if ((results.x as Record<string, unknown> | undefined)?.missing)
    notes.push('x not run: polling X cost absent');
  return notes.length ? { ...out, ...meter, notes } : { ...out, ...meter };
}
