/**
 * Every price the benchmark multiplies by, in one table, with where it comes from. Change a number
 * here and `npm run bench` reprices everything; nothing else in `bench/` holds a price.
 *
 * AWS: public on-demand list prices, region us-east-1, as published on the AWS pricing pages
 * (aws.amazon.com/{lambda,sqs,dynamodb,secrets-manager,kms,cloudwatch,xray,api-gateway,eventbridge}/pricing,
 * read 2026-12), free tiers ignored.
 * X: pay-per-use prices from X-API.md §4 (docs.x.com pricing, 2026-04-20 / 2026-08-13 changes).
 */

/** AWS us-east-1 list prices in USD. */
export const AWS_PRICES = {
  /** Lambda on arm64 (Graviton): per GB-second of billed duration (1 ms granularity). */
  lambdaArmPerGbSecond: 0.0000133334,
  /** Lambda: per request (invocation). $0.20 per million. */
  lambdaPerRequest: 0.2 / 1e6,
  /** SQS standard queue: per request (each 64 KiB chunk of payload is one request). $0.40 per million. */
  sqsStandardPerRequest: 0.4 / 1e6,
  /** SQS FIFO queue: per request. $0.50 per million. */
  sqsFifoPerRequest: 0.5 / 1e6,
  /** DynamoDB on-demand: per read request unit. $0.125 per million (since 2024-11-01). */
  dynamodbPerRru: 0.125 / 1e6,
  /** DynamoDB on-demand: per write request unit. $0.625 per million (since 2024-11-01). */
  dynamodbPerWru: 0.625 / 1e6,
  /** Secrets Manager: per API call. $0.05 per 10,000. */
  secretsManagerPerCall: 0.05 / 1e4,
  /** Secrets Manager: per secret per month (one per channel: its tokens). */
  secretsManagerPerSecretMonth: 0.4,
  /** KMS: per request ($0.03 per 10,000); each secret read/write decrypts/encrypts with the channel CMK. */
  kmsPerRequest: 0.03 / 1e4,
  /** KMS: per customer-managed key per month (the construct has two: tokens, data). */
  kmsKeyPerMonth: 1.0,
  /** CloudWatch Logs: ingestion per GB (standard log class), aws.amazon.com/cloudwatch/pricing. */
  logsIngestPerGb: 0.5,
  /** CloudWatch Logs: storage per GB-month (compressed; priced here on the raw bytes, an upper bound). */
  logsStoragePerGbMonth: 0.03,
  /** CloudWatch: per custom metric per month (first 10,000 metrics), incl. EMF-created metrics. */
  customMetricPerMonth: 0.3,
  /** CloudWatch: per standard-resolution alarm metric per month. */
  alarmPerMonth: 0.1,
  /** X-Ray: per trace recorded ($5.00 per million), aws.amazon.com/xray/pricing. */
  xrayPerTrace: 5.0 / 1e6,
  /** API Gateway HTTP API: per request, first 300 million a month ($1.00 per million). */
  apiGatewayHttpPerRequest: 1.0 / 1e6,
  /** EventBridge Scheduler: per invocation ($1.00 per million) after 14 million free a month. */
  schedulerPerInvocation: 1.0 / 1e6,
} as const;

/**
 * What the whole-cost model (bench/cost-model.ts) assumes where nothing is measured; each is stated
 * in the bench output beside the figure it feeds.
 */
export const MODEL_ASSUMPTIONS = {
  /** START, END and REPORT lines Lambda writes per invocation (+ the X-Ray trace id line): ~350 bytes. */
  lambdaPlatformLogBytesPerInvocation: 350,
  /** Share of invocations X-Ray records: the default rule keeps 1 a second + 5 %; at an idle connector's
   * rate (well under 1 a second) that is every one. An upper bound at higher rates. */
  xrayTracedShare: 1,
  /** Lambda re-creates an execution environment (and bills its INIT, since 2025-08-01) about this often
   * per environment kept busy; AWS documents no lifetime, a few hours is commonly observed. */
  environmentInitsPerHour: 0.5,
  /** SQS SSE-KMS: data key reuse period (the construct keeps SQS's default, 300 s): one KMS call per
   * period per queue and principal that sends or receives. */
  sqsDataKeyReuseSeconds: 300,
  /** (queue, principal) pairs using the data key: pollJobs ×2, inbound ×2, outbound ×2, results ×2,
   * DLQ moves ×1. */
  sqsKeyPairs: 9,
  /** DynamoDB with a customer-managed key caches the table key and calls KMS about every 5 minutes per
   * caller; callers: the five functions. */
  dynamodbKmsCallsPerCallerPerHour: 12,
  dynamodbKmsCallers: 5,
  /** Lambda's SQS event source long-polls (20 s) with at least 5 pollers even when the queue is empty. */
  esmIdlePollersPerQueue: 5,
  esmLongPollSeconds: 20,
  /** Event sources on queues: poll jobs (standard) and outbound (FIFO). */
  esmStandardQueues: 1,
  esmFifoQueues: 1,
  /** Distinct custom metrics the functions emit (addMetric names in lambdas/ and core/, 2026-12-07). */
  customMetrics: 13,
  /** CloudWatch alarms the construct creates (lib/x-channel-monitoring.ts). */
  alarms: 12,
  /** The dispatcher's tick over a handful of channels (a 10,000-channel tick is measured separately). */
  dispatcherTickMs: 100,
  // Real time on: the reconciliation cadence is the product's own (core/inbound/planner.ts
  // DEFAULT_RECONCILE_CADENCE: mentions every 15 min, DMs every 6 h with a first page of 1 event).
} as const;

/** X API pay-per-use prices in USD (X-API.md §4). Reads are per resource returned, once per UTC day. */
export const X_PRICES = {
  postRead: 0.005,
  userRead: 0.01,
  dmEventRead: 0.01,
  /** Only when the account owns the developer app; a customer's business account usually does not. */
  ownedRead: 0.001,
  post: 0.015,
  postWithUrl: 0.2,
  summonedReply: 0.01,
  dm: 0.015,
  follow: 0.015,
} as const;

/** Monthly Post-read caps per plan (X-API.md §3 "Monthly Post-read caps"); null = no documented cap. */
export const X_MONTHLY_READ_CAPS: Record<string, number | null> = {
  free: 100,
  basic: 15_000,
  pro: 1_000_000,
  'pay-per-use': 3_000_000,
  enterprise: 50_000_000,
  unlimited: null,
};

/** Seconds in the 30-day month every "per month" figure uses. */
export const SECONDS_PER_MONTH = 30 * 86_400;

/** Lambda memory the CDK construct gives each function (lib/handlers.ts), for GB-s pricing. */
export function gbSeconds(billedMs: number, memoryMb: number): number {
  return (billedMs / 1000) * (memoryMb / 1024);
}
