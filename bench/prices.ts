/**
 * Every price the benchmark multiplies by, in one table, with where it comes from. Change a number
 * here and `npm run bench` reprices everything; nothing else in `bench/` holds a price.
 *
 * AWS: public on-demand list prices, region us-east-1, as published on the AWS pricing pages
 * (Lambda, SQS, DynamoDB, Secrets Manager, KMS), free tiers ignored.
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
