/**
 * One seeded, randomized end-to-end run for the reliability suite and the soak script: several channels,
 * customers writing mentions, thread replies and DMs at the simulated X over simulated time, a fake case
 * system answering from the inbound queue through the outbound queue, and a random fault schedule:
 * - simulated X faults (429 with a reset, 5xx, connection resets, bodies cut mid-flight, POST timeouts,
 *   5xx bursts that outlive the poll's own retry, a 429 after a 5xx, latency),
 * - AWS faults at the edge of the real SDK clients (./aws-faults.ts): DynamoDB, SQS and Secrets Manager
 *   throttling and 5xx, SendMessageBatch entries refused, slow answers,
 * - process deaths at step boundaries: each invocation runs in a simulated Lambda container with its own
 *   composition (token cache, in-memory 429 blocks, …); a crash kills the rest of that invocation (every
 *   later AWS call fails, so leases are not released) and throws the container away, so the next
 *   invocation starts cold from durable state; concurrent invocations run in different containers,
 * - SQS redeliveries and visibility expiry, concurrent duplicate poll jobs, token expiry and revocation.
 * The case system answers some messages with media ({@link MEDIA_CASES}): `mediaUrls` naming objects in
 * the run's media bucket (an S3 stand-in reached through `@aws-sdk/client-s3`) — valid images, one too
 * large, one of a type X does not take, a missing key, a bucket not allowed — each with its expected
 * result ({@link RunReport.mediaMismatches}); a crash point dies between the upload and the post.
 * The SQS stand-in runs on the run's simulated clock (dedup window, visibility, delays). Faults are
 * counted when they fire ({@link RunReport.faults}), not when armed ({@link RunReport.armed}).
 * The X client (twitter-api-v2), SQS, DynamoDB and Secrets Manager are real; handlers run through middy
 * and Powertools exactly as deployed, invoked with SQS-shaped events built from real received messages.
 *
 * At the end {@link RunReport} holds the exact accounting the tests assert to be all zero.
 */
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { createHash } from 'node:crypto';
import { createDynamoChannelStore } from '../../adapters/aws/dynamo-channel-store';
import { createAwsClients, type AwsClients } from '../../adapters/aws/clients';
import { createS3Client } from '../../adapters/aws/s3';
import { ensureTable } from '../../adapters/aws/table';
import { createSecretsTokenVault } from '../../adapters/aws/secrets-token-vault';
import { createXAppClient } from '../../adapters/x/client';
import { parseInbound, type InboundMessage, type ResultMessage } from '../../contracts';
import type { Channel } from '../../core/channel';
import type { Clock } from '../../core/ports';
import { createApp as createPollerHandler } from '../../lambdas/poller/app';
import { compose as composePoller } from '../../lambdas/poller/compose';
import { loadConfig as loadPollerConfig } from '../../lambdas/poller/config';
import { createApp as createSenderHandler } from '../../lambdas/sender/app';
import { compose as composeSender } from '../../lambdas/sender/compose';
import { loadConfig as loadSenderConfig } from '../../lambdas/sender/config';
import { compose as composeWebhook } from '../../lambdas/webhook/compose';
import { loadConfig as loadWebhookConfig } from '../../lambdas/webhook/config';
import { createLogger } from '../../lambdas/shared/logger';
import { failedIdsFromResponse, toSqsRecord } from '../../local/event-source';
import { createLambdaContext } from '../../local/lambda-context';
import { startSimX, type FaultSpec, type SimX } from '../../sim/x/server';
import { ensureBucket, startS3 } from '../../stand-ins/s3';
import type { LocalAws } from './local-aws';
import { AwsFaultTable, type AwsFault } from './aws-faults';
import { activeChannel } from './channel-fixture';

export const CLIENT_ID = 'reliability-client';
export const CLIENT_SECRET = 'reliability-client-secret-7f3a9c2e51';
const REDIRECT_URI = 'http://127.0.0.1:9/oauth/callback';
const SCOPES = [
  'tweet.read',
  'tweet.write',
  'users.read',
  'dm.read',
  'dm.write',
  'media.write',
  'offline.access',
];
const APP_SECRET_ID = 'x-channel/reliability-app';
const START_MS = Date.UTC(2026, 8, 1, 12, 0, 0);
/** The run's media bucket (an S3 stand-in of its own) and a bucket `mediaUrls` may not name. */
const MEDIA_BUCKET = 'x-channel-media-reliability';
const FOREIGN_BUCKET = 'someone-elses-bucket';
/** SQS FIFO deduplication interval (the stand-in's, on the run's clock). */
const SQS_DEDUP_WINDOW_MS = 5 * 60_000;

/** mulberry32: a tiny seeded PRNG, so a run is reproducible from its seed alone. */
export function createRng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    chance: (p: number) => next() < p,
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)],
  };
}
export type Rng = ReturnType<typeof createRng>;

/**
 * What the case system puts in `mediaUrls` when it answers with media, and the result it must get:
 * valid objects are attached (the post or DM carries their bytes, by sha256); the others fail with
 * their code, not retryable, before any post.
 */
export const MEDIA_CASES = {
  photo: null, // one PNG (a DM: one JPEG, `dm_image`)
  photos: null, // two PNGs (replies only: a DM takes one attachment)
  too_large: 'media_too_large', // an image of 5 MB + 1 byte
  wrong_type: 'media_type_not_supported', // application/pdf
  missing: 'media_not_found', // a key not in the bucket
  not_allowed: 'media_source_not_allowed', // another bucket
} as const;
export type MediaCase = keyof typeof MEDIA_CASES;

/** Where a crash is injected; `after` kinds let the side effect happen, then kill the invocation. */
export const CRASH_POINTS = [
  'crash_after_x_read', // before the inbound send: X was read, nothing published
  'crash_partial_inbound_batch', // part of an inbound batch reached SQS
  'crash_after_inbound_send', // everything published, checkpoint not written
  'crash_before_checkpoint', // checkpoint write refused by the dying process
  'crash_after_x_post', // X posted, idempotency record not completed
  'crash_after_result_send', // result published, outbound message not deleted
  'crash_during_token_refresh', // refresh lease taken, refresh not stored
  'crash_before_rate_block', // X answered 429, the block's write refused by the dying process
  'crash_after_media_upload', // media upload finalized at X, the post not made (the lease renewal refused)
] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

/** X faults through the simulated X (labelled with their kind, counted when a call takes them). */
export const X_FAULTS = [
  'x_429',
  'x_500',
  'x_503',
  'x_reset',
  'x_malformed',
  'x_post_timeout',
  'x_5xx_burst', // three 5xx in a row on one endpoint: outlives the in-poll retry, so it is classified
  'x_429_after_5xx', // a 5xx, then a 429 on the retry
  'x_latency', // sticky latency on one endpoint until the quiesce
] as const;
export type XFaultKind = (typeof X_FAULTS)[number];

/** AWS faults at the edge of the real SDK clients (./aws-faults.ts), counted per answer they replace. */
export const AWS_FAULTS = [
  'ddb_throttle', // ProvisionedThroughputExceededException / ThrottlingException
  'ddb_5xx', // InternalServerError (500)
  'sqs_throttle', // RequestThrottled
  'sqs_5xx', // 500 / 503
  'sqs_batch_partial', // SendMessageBatch answers 200 with some entries Failed
  'secrets_throttle', // Secrets Manager ThrottlingException
  'aws_slow', // a slow answer (real ms)
] as const;
export type AwsFaultKind = (typeof AWS_FAULTS)[number];

export const OTHER_FAULTS = [
  'redelivery', // failed poll jobs made visible again at once
  'visibility_expiry', // in-flight outbound messages visible again before their handler finished
  'duplicate_poll_jobs', // two jobs for one channel handled concurrently (two containers)
  'token_expiry', // simulated time jumps past the access token's life
  'token_revocation', // the user revokes the app at X
] as const;
export type FaultKind = CrashPoint | XFaultKind | AwsFaultKind | (typeof OTHER_FAULTS)[number];

/** Every fault kind, in the order the schedule arms them (a run's first fault is picked by its seed). */
export const FAULT_KINDS: readonly FaultKind[] = [
  ...CRASH_POINTS,
  ...X_FAULTS,
  ...AWS_FAULTS,
  ...OTHER_FAULTS,
];

/** The schedule's rotation: the groups interleaved (a crash, an X fault, an AWS fault, another, …). */
const ROTATION: readonly FaultKind[] = (() => {
  const groups: FaultKind[][] = [[...CRASH_POINTS], [...X_FAULTS], [...AWS_FAULTS], [...OTHER_FAULTS]];
  const out: FaultKind[] = [];
  for (let i = 0; out.length < FAULT_KINDS.length; i++)
    for (const g of groups) if (i < g.length) out.push(g[i]);
  return out;
})();

/** Each seed starts the rotation this many kinds after the previous seed, and takes at least ROTATION_PICKS from it. */
const ROTATION_STRIDE = 3;
const ROTATION_PICKS = 4;

/**
 * Firings each kind needs across the randomized suite's 20 seeds (the soak asks 5 % of its seed count
 * of every kind): a kind that never fires proves nothing. Every kind is armed at least twice over any
 * 20 consecutive seeds (the rotation) and arming makes the call it needs happen (a post, a refresh, a
 * checkpoint), so each needs 2; kinds counted per answer they replace (AWS faults, a burst's 5xx, a
 * latency's calls) or drawn by the schedule every step as well (redelivery, visibility expiry,
 * duplicate poll jobs) need more.
 */
export const FAULT_MINIMUMS: Record<FaultKind, number> = {
  ...(Object.fromEntries(FAULT_KINDS.map((k) => [k, 2])) as Record<FaultKind, number>),
  x_5xx_burst: 4,
  x_latency: 3,
  ...(Object.fromEntries(AWS_FAULTS.map((k) => [k, 3])) as Record<AwsFaultKind, number>),
  redelivery: 4,
  visibility_expiry: 3,
  duplicate_poll_jobs: 8,
};

/** What one run found. Every list must be empty and every count zero for the run to pass. */
export interface RunReport {
  seed: number;
  items: number;
  commands: number;
  faults: Partial<Record<FaultKind, number>>;
  /** `<channelId>|<id>` of items the simulated X holds for a channel that never reached the consumer (not excused). */
  lost: string[];
  /** `<channelId>|<id>` the consumer received more than once, at any distance in time. */
  duplicated: string[];
  /**
   * Duplicates of the one remaining case (docs/guarantees.md): published, then the process died or its
   * delivered-ledger write failed, and the item was read again after SQS's 5-minute dedup window.
   */
  duplicatedAfterLostRecord: string[];
  /** Outbound keys without a result, or with two different results. */
  missingResults: string[];
  conflictingResults: string[];
  /** Keys posted at X more than once, or `sent` without exactly one post carrying the returned id. */
  doublePosts: string[];
  sentWithoutPost: string[];
  /** Secret values found in logs, messages, results or error bodies (reported by kind, never by value). */
  leaked: string[];
  /** Calls to an endpoint after a 429 and before its reset. */
  rateViolations: string[];
  /**
   * The one remaining 429 case (docs/guarantees.md), counted apart: the invocation that X answered 429
   * died before the block's write reached DynamoDB, and the next container called the endpoint once
   * inside the window (X answered 429 again and the block was stored then). Any second call is a
   * violation.
   */
  rateCallsAfterLostBlock: string[];
  /** sha256 (16 hex) of what the run did: its trace and every X call (time, endpoint, status). */
  fingerprint: string;
  /** Refresh tokens presented twice (not counting {@link RunReport.refreshLostToDeath}). */
  refreshReuse: number;
  /**
   * The remaining token case (docs/guarantees.md), counted apart: X accepted a refresh (the old refresh
   * token spent), then the invocation died before the vault stored the new pair — every
   * `PutSecretValue` of that channel's tokens refused by the dead process — so the next refresh presents
   * the spent token and the channel goes `needs_reauth`. One entry per such channel: `<channelId>` and
   * the spent presentations that followed. A reuse on any other channel is `refreshReuse`.
   */
  refreshLostToDeath: string[];
  /** Channels that ended needs_reauth/degraded, with their reason. */
  accountedInHealth: Array<{ channelId: string; status: string; reason: string | null; undelivered: number }>;
  /** Undelivered items excused by a stop the run injected, one entry per stopped channel and its cause. */
  excused: Array<{ channelId: string; cause: 'token_revocation' | 'refresh_lost_to_death'; items: number }>;
  /** Faults armed (a fault counts in `faults` only when it fired). */
  armed: Partial<Record<FaultKind, number>>;
  /** Containers started (each crash throws one away; concurrent invocations each need one). */
  coldStarts: number;
  /** Own posts/DMs fed back inbound. */
  echoes: string[];
  /** Poison commands: their ids must each have a failed result (and a DLQ entry). */
  poison: number;
  /** Commands with `mediaUrls`, by case (see {@link MEDIA_CASES}). */
  mediaCommands: Partial<Record<MediaCase, number>>;
  /**
   * Media commands whose result was not the expected one: valid media not attached with its bytes
   * (sha256) or refused as media; invalid media not failed with its code (not retryable), or posted;
   * a `crash_after_media_upload` that did not find the upload finalized and unused at X.
   */
  mediaMismatches: string[];
  /**
   * The delivered ledger's sweep (the webhook function's `settlePending`, on the deployed stack's
   * schedule: every simulated minute): ticks run, and held deliveries it published again inside SQS's
   * dedup window (`republished`) or after it (`unproven`: a duplicate if the dead holder's send had
   * gone through).
   */
  sweep: { ticks: number; failed: number; republished: number; unproven: number };
}

/** Counts of a report's failures (all must be zero). */
export function failureCount(r: RunReport): number {
  return (
    r.lost.length +
    r.duplicated.length +
    r.missingResults.length +
    r.conflictingResults.length +
    r.doublePosts.length +
    r.sentWithoutPost.length +
    r.leaked.length +
    r.rateViolations.length +
    r.refreshReuse +
    r.echoes.length +
    r.mediaMismatches.length
  );
}

/** Options of one run. */
export interface RunOptions {
  seed: number;
  channels?: number;
  steps?: number;
  /** Probability that a step arms a fault. */
  faultRate?: number;
  /** Sender X timeout (ms, real time): a `x_post_timeout` costs this much. */
  xTimeoutMs?: number;
}

interface TrackedChannel {
  channel: Channel;
  accountId: string;
  username: string;
  revokedAt: number | null;
}

/** A simulated Lambda container's life: dead after a crash; invocations counts the ones it served. */
interface Box {
  dead: boolean;
  invocations: number;
}

/** A Proxy over an AWS SDK client whose `send` passes through `intercept`. */
function wrapSend<C extends { send: (...args: any[]) => Promise<any> }>(
  client: C,
  intercept: (command: any, real: (command: any) => Promise<any>) => Promise<any>,
): C {
  const real = (command: any) => client.send(command);
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop === 'send') return (command: any) => intercept(command, real);
      return Reflect.get(target, prop, receiver);
    },
  });
}

class InjectedCrash extends Error {
  constructor(point: string) {
    super(`injected crash: ${point}`);
    this.name = 'InjectedCrash';
  }
}

/** Runs of each seed in this process (a second run of a seed gets names of its own). */
const runsOfSeed = new Map<number, number>();

/** Runs one seeded randomized run against `aws` and a fresh simulated X. */
const PROFILE = process.env.XC_RELIABILITY_PROFILE === '1';
const phases: Record<string, number> = {};
async function timed<T>(name: string, f: () => Promise<T>): Promise<T> {
  if (!PROFILE) return f();
  const t = performance.now();
  try {
    return await f();
  } finally {
    phases[name] = (phases[name] ?? 0) + performance.now() - t;
  }
}
/** Accumulated phase timings (ms) when XC_RELIABILITY_PROFILE=1. */
export const profile = () => ({ ...phases });

export async function runSeed(aws: LocalAws, options: RunOptions): Promise<RunReport> {
  const rng = createRng(options.seed);
  // what a crash point brings with it (its 429, its refresh, its batch) draws from a stream of its own,
  // so adding one does not move the rest of the seed's schedule
  const companion = createRng(options.seed ^ 0x5bd1e995);
  // which answers carry media, and which media, draw from a third stream
  const mediaRng = createRng(options.seed ^ 0x6d656469);
  // Names are the seed's own, never random (a replay sees the same ids in the same order); a second
  // run of a seed in one process gets a suffix so its queues and table start empty.
  const runNo = runsOfSeed.get(options.seed) ?? 0;
  runsOfSeed.set(options.seed, runNo + 1);
  const runName = `r${options.seed.toString(36)}${runNo ? `n${runNo}` : ''}`;
  const channelCount = options.channels ?? 2;
  const steps = options.steps ?? rng.int(6, 9);
  const faultRate = options.faultRate ?? 0.65;
  let nowMs = START_MS;
  const simClock = { now: () => nowMs };
  const clock: Clock = { now: () => new Date(nowMs) };
  const advance = (ms: number) => (nowMs += ms);
  const report: RunReport = {
    seed: options.seed,
    items: 0,
    commands: 0,
    faults: {},
    lost: [],
    duplicated: [],
    duplicatedAfterLostRecord: [],
    missingResults: [],
    conflictingResults: [],
    doublePosts: [],
    sentWithoutPost: [],
    leaked: [],
    rateViolations: [],
    rateCallsAfterLostBlock: [],
    fingerprint: '',
    refreshReuse: 0,
    refreshLostToDeath: [],
    accountedInHealth: [],
    excused: [],
    armed: {},
    coldStarts: 0,
    echoes: [],
    poison: 0,
    mediaCommands: {},
    mediaMismatches: [],
    sweep: { ticks: 0, failed: 0, republished: 0, unproven: 0 },
  };
  const trace: string[] = [];
  const note = (what: string) => trace.push(`${new Date(nowMs).toISOString().slice(11, 19)} ${what}`);
  const count = (k: FaultKind) => {
    report.faults[k] = (report.faults[k] ?? 0) + 1;
    note(`fired ${k}`);
  };

  // Everything the run produced that a secret must not appear in.
  const surfaces: string[] = [];
  const secrets = new Map<string, string>(); // value -> kind
  const captureOut: string[] = [];
  const origOut = process.stdout.write.bind(process.stdout);
  const origErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: any, ...rest: any[]) => {
    captureOut.push(String(chunk));
    return typeof rest[rest.length - 1] === 'function' ? (rest[rest.length - 1](), true) : true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: any, ...rest: any[]) => {
    captureOut.push(String(chunk));
    return typeof rest[rest.length - 1] === 'function' ? (rest[rest.length - 1](), true) : true;
  }) as typeof process.stderr.write;

  const sim: SimX = await startSimX({ port: 0, clock: simClock, accessTokenTtlSeconds: 3600 });
  // SQS dedup windows, visibility and delays on the run's clock: a republish more than 5 simulated
  // minutes after the first send is delivered again, as real SQS would
  aws.setSqsClock(simClock.now);
  const cleanup: Array<() => void> = [() => aws.setSqsClock(undefined)];
  sim.registerApp({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    name: 'Reliability',
    redirectUris: [REDIRECT_URI],
  });
  secrets.set(CLIENT_SECRET, 'client_secret');
  const harvestSecrets = () => {
    for (const t of Object.keys(sim.state.accessTokens)) secrets.set(t, 'access_token');
    for (const t of Object.keys(sim.state.refreshTokens)) secrets.set(t, 'refresh_token');
    for (const c of Object.keys(sim.state.codes)) secrets.set(c, 'authorization_code');
  };

  try {
    await aws.clients.secrets
      .send(
        new CreateSecretCommand({
          Name: APP_SECRET_ID,
          SecretString: JSON.stringify({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }),
        }),
      )
      .catch((e: Error) => {
        if (e.name !== 'ResourceExistsException') throw e;
      });
    const queues = await timed('queues', () => aws.createQueues(`-${runName}`));
    // A table of the run's own: nothing an earlier seed wrote (app-wide budgets, spend, leases) reaches
    // this one, so a seed behaves the same alone, in a soak, or in any worker.
    const tableName = `${aws.tableName}-${runName}`;
    await timed('table', () => ensureTable(aws.clients.dynamodb, tableName));
    cleanup.push(() => {
      void aws.clients.dynamodb.send(new DeleteTableCommand({ TableName: tableName })).catch(() => undefined);
    });

    // ---- the media bucket: the objects the case system's `mediaUrls` name ---------------------------
    const s3Stand = await timed('s3', () => startS3({ port: 0 }));
    const s3 = createS3Client({ region: aws.region, endpoint: s3Stand.endpoint });
    cleanup.push(() => {
      s3.destroy();
      void s3Stand.stop().catch(() => undefined);
    });
    const mediaObjects = {
      photo1: { key: 'outbound/photo-1.png', type: 'image/png', body: Buffer.alloc(30_000, `p1-${runName}`) },
      photo2: { key: 'outbound/photo-2.png', type: 'image/png', body: Buffer.alloc(12_000, `p2-${runName}`) },
      receipt: {
        key: 'outbound/receipt.jpg',
        type: 'image/jpeg',
        body: Buffer.alloc(20_000, `r-${runName}`),
      },
      tooLarge: { key: 'outbound/too-large.png', type: 'image/png', body: Buffer.alloc(5 * 1024 * 1024 + 1) },
      pdf: { key: 'outbound/manual.pdf', type: 'application/pdf', body: Buffer.alloc(2_000, 'pdf') },
    };
    await timed('s3', async () => {
      await ensureBucket(s3, MEDIA_BUCKET);
      for (const o of Object.values(mediaObjects))
        await s3.send(
          new PutObjectCommand({ Bucket: MEDIA_BUCKET, Key: o.key, Body: o.body, ContentType: o.type }),
        );
    });
    const s3Url = (key: string) => `s3://${MEDIA_BUCKET}/${key}`;
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    /** The `mediaUrls` of a case and the sha256 of each object X must end up holding (valid cases). */
    const mediaOf = (c: MediaCase, dm: boolean): { urls: string[]; sha256: string[] } => {
      const { photo1, photo2, receipt, tooLarge, pdf } = mediaObjects;
      switch (c) {
        case 'photo':
          return dm
            ? { urls: [s3Url(receipt.key)], sha256: [sha(receipt.body)] }
            : { urls: [s3Url(photo1.key)], sha256: [sha(photo1.body)] };
        case 'photos':
          return {
            urls: [s3Url(photo1.key), s3Url(photo2.key)],
            sha256: [sha(photo1.body), sha(photo2.body)],
          };
        case 'too_large':
          return { urls: [s3Url(tooLarge.key)], sha256: [] };
        case 'wrong_type':
          return { urls: [s3Url(pdf.key)], sha256: [] };
        case 'missing':
          return { urls: [s3Url('outbound/missing.png')], sha256: [] };
        case 'not_allowed':
          return { urls: [`s3://${FOREIGN_BUCKET}/${photo1.key}`], sha256: [] };
        default:
          return assertNeverCase(c);
      }
    };

    // ---- AWS faults at the SDK edge, crashes as process deaths ---------------------------------------
    // The product's own clients (the harness reads and writes through aws.clients, never faulted).
    const awsFaults = new AwsFaultTable();
    const productClients = awsFaults.decorate(
      createAwsClients({ region: aws.region, endpoints: aws.endpoints, credentials: aws.credentials }),
    );
    // The SDK's retries run as deployed (3 attempts, its own error classification); only the back-off
    // between them is skipped: it waits on the wall clock (up to seconds for a throttle, with jitter),
    // not on the run's, so it made a seed slower and its timing vary without testing anything more.
    for (const c of [productClients.dynamodb, productClients.sqs, productClients.secrets]) {
      const strategy = new ConfiguredRetryStrategy(3, 0);
      (c.config as { retryStrategy: () => Promise<unknown> }).retryStrategy = async () => strategy;
    }
    cleanup.push(() => {
      productClients.dynamodb.destroy();
      productClients.sqs.destroy();
      productClients.secrets.destroy();
    });
    /**
     * What SQS accepted for the inbound queue, per `<channelId>|<id>`: when, and whether the delivered
     * ledger held the item at that moment (seen at the SDK edge of the product's own calls).
     */
    interface Acceptance {
      at: number;
      ledgered: boolean;
      /** The container and its invocation that published it; what became of its ledger write. */
      box: Box;
      invocation: number;
      record?: 'ok' | 'failed';
    }
    const acceptances = new Map<string, Acceptance[]>();
    const ledgered = new Set<string>();
    const deliveredItems = (input: Record<string, any>) =>
      Object.values(input.RequestItems as Record<string, any[]>)
        .flat()
        .map((r) => r.PutRequest?.Item)
        .filter((item) => item?.type === 'delivered');
    /** Marks this invocation's acceptances of `key` with the outcome of its ledger write. */
    const noteRecord = (box: Box, key: string, record: 'ok' | 'failed') => {
      for (const a of acceptances.get(key) ?? [])
        if (a.box === box && a.invocation === box.invocations && a.record !== 'ok') a.record = record;
    };
    const noteAccepted = (box: Box, input: Record<string, any>, res: any) => {
      const ok = new Set((res?.Successful ?? []).map((e: { Id: string }) => e.Id));
      for (const e of input.Entries as Array<{ Id: string; MessageDeduplicationId: string }>) {
        if (!ok.has(e.Id)) continue;
        const dedup = e.MessageDeduplicationId;
        const key = `${dedup.slice(0, dedup.indexOf(':'))}|${dedup.slice(dedup.indexOf(':') + 1)}`;
        const a: Acceptance = { at: nowMs, ledgered: ledgered.has(key), box, invocation: box.invocations };
        acceptances.set(key, [...(acceptances.get(key) ?? []), a]);
      }
    };
    const noteLedgered = (box: Box, input: Record<string, any>, res: any) => {
      const unprocessed = new Set(
        Object.values((res?.UnprocessedItems ?? {}) as Record<string, any[]>)
          .flat()
          .map((r) => r.PutRequest?.Item?.pk),
      );
      for (const item of deliveredItems(input)) {
        const key = `${item.channelId}|${item.itemId}`;
        if (unprocessed.has(item.pk)) continue;
        ledgered.add(key);
        noteRecord(box, key, 'ok');
      }
    };
    /** Crash points armed and not yet met (each fires once, at its point). */
    const armed = new Set<CrashPoint>();
    /** Deaths at a 429 block's write: the endpoint, the account and when. */
    const lostBlocks: Array<{ endpoint: string; userId: string | undefined; at: number }> = [];
    /** Token pairs a dead process could not store after X accepted their refresh: channel and when. */
    const lostTokenPairs: Array<{ channelId: string; at: number }> = [];

    /**
     * A simulated Lambda container: its own composition (clients view, token cache, in-memory 429 blocks,
     * idempotency and rate state) built at cold start. A crash kills the container: every later AWS call
     * of that invocation fails, and the container is thrown away; the next invocation gets a fresh one.
     * Concurrent invocations run in different containers, so a crash never touches a sibling.
     */
    interface Container<H> extends Box {
      handler: H;
    }
    function containerClients(box: Box, crashPoints = true): AwsClients {
      // the sweep's container takes AWS faults but no crash point (each is named for a poller or sender step)
      const armedHere = (point: CrashPoint) => crashPoints && armed.has(point);
      const die = (point: CrashPoint): never => {
        armed.delete(point);
        box.dead = true;
        count(point);
        throw new InjectedCrash(point);
      };
      const sqs = wrapSend(productClients.sqs, async (command, real) => {
        if (box.dead) throw new InjectedCrash('process is dead');
        const name = command.constructor.name as string;
        const input = command.input as Record<string, any>;
        if (name === 'SendMessageBatchCommand' && input.QueueUrl === queues.inbound.url) {
          const send = async (c: any) => {
            const res = await real(c);
            noteAccepted(box, c.input, res);
            return res;
          };
          if (armedHere('crash_after_x_read')) die('crash_after_x_read');
          if (armedHere('crash_partial_inbound_batch') && input.Entries.length > 1) {
            const point = 'crash_partial_inbound_batch';
            const part = input.Entries.slice(0, rng.int(1, input.Entries.length - 1));
            await send(new (command.constructor as any)({ ...input, Entries: part }));
            die(point);
          }
          if (armedHere('crash_after_inbound_send')) {
            const point = 'crash_after_inbound_send';
            await send(command);
            die(point);
          }
          return send(command);
        }
        if (
          name === 'SendMessageCommand' &&
          input.QueueUrl === queues.results.url &&
          armedHere('crash_after_result_send')
        ) {
          const point = 'crash_after_result_send';
          await real(command);
          die(point);
        }
        return real(command);
      });
      const doc = wrapSend(productClients.doc, async (command, real) => {
        const name = command.constructor.name as string;
        const input = command.input as Record<string, any>;
        const sk = String(input.Key?.sk ?? input.Item?.sk ?? '');
        // a 429 block's own write (poller and sender): refused by a dead process, the block lived only
        // in its memory (whichever crash killed it: this point, or a sibling poll's in the same container)
        const blockWrite =
          name === 'UpdateCommand' && sk === 'CHANNEL' && input.UpdateExpression === 'SET #h.#nb.#e = :t';
        const loseBlock = () => {
          const channelId = String(input.Key.pk).slice('CH#'.length);
          const t = tracked.find((c) => c.channel.id === channelId);
          lostBlocks.push({
            endpoint: input.ExpressionAttributeNames['#e'],
            userId: t?.accountId,
            at: nowMs,
          });
        };
        if (box.dead) {
          if (blockWrite) loseBlock();
          throw new InjectedCrash('process is dead');
        }
        // the poll's final write: a plain update, or the update with the meter's charges riding on it
        // in one TransactWriteItems (adapters/aws/dynamo-write-ride.ts)
        const update =
          name === 'UpdateCommand'
            ? input
            : name === 'TransactWriteCommand'
              ? input.TransactItems?.[0]?.Update
              : undefined;
        if (
          armedHere('crash_before_checkpoint') &&
          update?.Key?.sk === 'CHANNEL' &&
          String(update.UpdateExpression).includes('#cp = :next')
        )
          die('crash_before_checkpoint');
        if (armedHere('crash_before_rate_block') && blockWrite) {
          loseBlock();
          die('crash_before_rate_block');
        }
        // the lease renewal between the media uploads and the post (core/outbound/send.ts step 7): a
        // claim by the record's own holder
        if (
          armedHere('crash_after_media_upload') &&
          name === 'PutCommand' &&
          sk.startsWith('IDEM#') &&
          input.ExpressionAttributeValues?.[':owner'] === input.Item?.owner
        ) {
          const channelId = String(input.Item.pk).slice('CH#'.length);
          const accountId = tracked.find((c) => c.channel.id === channelId)?.accountId;
          const finalized = sim.state.media.some(
            (m) => m.ownerId === accountId && m.finalizedAt !== null && m.usedBy === null,
          );
          if (!finalized)
            report.mediaMismatches.push(
              `crash_after_media_upload: no finalized, unused upload at X (${channelId})`,
            );
          die('crash_after_media_upload');
        }
        // the completion: a plain update, or the update with the meter's charges riding on it
        if (
          armedHere('crash_after_x_post') &&
          String(update?.Key?.sk ?? '').startsWith('IDEM#') &&
          update?.ExpressionAttributeValues?.[':completed']
        )
          die('crash_after_x_post');
        if (name === 'BatchWriteCommand') {
          const res = await real(command).catch((e: unknown) => {
            for (const item of deliveredItems(input))
              noteRecord(box, `${item.channelId}|${item.itemId}`, 'failed');
            throw e;
          });
          noteLedgered(box, input, res);
          return res;
        }
        if (
          armedHere('crash_during_token_refresh') &&
          name === 'PutCommand' &&
          sk.startsWith('LEASE#refresh')
        ) {
          const point = 'crash_during_token_refresh';
          await real(command);
          die(point);
        }
        return real(command);
      });
      const guard = <C extends { send: (...args: any[]) => Promise<any> }>(client: C) =>
        wrapSend(client, (command, real) => {
          if (box.dead) {
            // the refreshed pair dies with the process (core/tokens.ts stores it right after X's answer)
            const secretId = (command.input as { SecretId?: string }).SecretId;
            const prefix = pollerConfig.TOKEN_SECRET_PREFIX;
            if (command.constructor.name === 'PutSecretValueCommand' && secretId?.startsWith(prefix))
              lostTokenPairs.push({ channelId: secretId.slice(prefix.length), at: nowMs });
            throw new InjectedCrash('process is dead');
          }
          return real(command);
        });
      return { dynamodb: guard(productClients.dynamodb), secrets: guard(productClients.secrets), sqs, doc };
    }

    const baseEnv = {
      AWS_REGION: aws.region,
      TABLE_NAME: tableName,
      XC_DYNAMODB_ENDPOINT: aws.endpoints.dynamodb,
      XC_SQS_ENDPOINT: aws.endpoints.sqs,
      XC_SECRETS_ENDPOINT: aws.endpoints.secretsManager,
      X_API_BASE_URL: sim.url,
      X_APP_SECRET_ID: APP_SECRET_ID,
    };
    const logger = createLogger({ serviceName: 'x-channel-reliability', logLevel: 'DEBUG' });
    const pollerConfig = loadPollerConfig({
      ...baseEnv,
      INBOUND_QUEUE_URL: queues.inbound.url,
      POLL_JOBS_QUEUE_URL: queues.pollJobs.url,
      X_TIER: 'pay-per-use',
      POLL_LEASE_MS: '30000',
    });
    const senderConfig = loadSenderConfig({
      ...baseEnv,
      RESULTS_QUEUE_URL: queues.results.url,
      OUTBOUND_DLQ_URL: queues.outbound.dlqUrl,
      X_APP_DM_BUDGET_PER_DAY: '1000000',
      X_APP_POST_BUDGET_PER_DAY: '1000000',
      MEDIA_BUCKET,
    });
    type PollHandler = ReturnType<typeof createPollerHandler>;
    type SendHandler = ReturnType<typeof createSenderHandler>;
    const coldPoller = (): Container<PollHandler> => {
      const box = { dead: false, invocations: 0, handler: undefined as unknown as PollHandler };
      box.handler = createPollerHandler(
        composePoller(pollerConfig, {
          clients: containerClients(box),
          clock,
          logger,
          sleep: async () => undefined,
        }),
      );
      return box;
    };
    const coldSender = (): Container<SendHandler> => {
      const box = { dead: false, invocations: 0, handler: undefined as unknown as SendHandler };
      box.handler = createSenderHandler(
        composeSender(senderConfig, {
          clients: containerClients(box),
          clock,
          xTimeoutMs: options.xTimeoutMs ?? 400,
          // the media bucket's client dies with its container too
          s3: wrapSend(s3, (command, real) => {
            if (box.dead) throw new InjectedCrash('process is dead');
            return real(command);
          }),
        }),
        // its logs, like the poller's, go into the output the leak check searches (tests run at WARN)
        logger,
      );
      return box;
    };
    // The delivered ledger's sweep: the deployed stack invokes the webhook function each minute
    // (lib/x-channel.ts, RealtimeWatchSchedule) and every tick settles the held deliveries of dead
    // invocations, the poller's included, whether real time is on or not. Its own container: AWS faults
    // reach it, crash points do not (a sweep that fails is redone by the next tick).
    const sweepBox: Box = { dead: false, invocations: 0 };
    const sweeper = composeWebhook(
      loadWebhookConfig({
        ...baseEnv,
        INBOUND_QUEUE_URL: queues.inbound.url,
        X_TIER: 'pay-per-use',
      }),
      { clients: containerClients(sweepBox, false), clock, logger },
    );
    /** The last minute the sweep ran at, and when a poller or sender last ran (what can leave a hold). */
    let sweptMinute = Math.floor(nowMs / 60_000);
    let handlersRanAt = nowMs;
    /**
     * Runs the sweep at every simulated minute since the last one, each at its own minute (then the
     * clock comes back): nothing else runs between two handler invocations, so those ticks are the
     * schedule's. Once a tick a minute past the last handler run finds nothing held, the remaining
     * ticks of this stretch find nothing either (only handlers hold), so they are skipped.
     */
    async function sweepUntilNow() {
      const now = nowMs;
      const last = Math.floor(now / 60_000);
      try {
        for (let minute = sweptMinute + 1; minute <= last; minute++) {
          nowMs = minute * 60_000;
          sweepBox.invocations++;
          report.sweep.ticks++;
          const r = await sweeper.settlePending().catch(() => undefined);
          if (!r) {
            report.sweep.failed++;
            continue;
          }
          report.sweep.republished += r.republished;
          report.sweep.unproven += r.unproven;
          if (r.pending) note(`sweep settled ${r.pending} (${r.republished} again, ${r.unproven} unproven)`);
          if (!r.pending && nowMs - handlersRanAt >= 60_000) break;
        }
      } finally {
        nowMs = now;
        sweptMinute = last;
      }
    }

    /** Warm containers waiting for an invocation; a dead one never returns here. */
    const warmPollers: Array<Container<PollHandler>> = [];
    const warmSenders: Array<Container<SendHandler>> = [];
    report.coldStarts = 0;
    async function invoke<H, R>(
      warm: Array<Container<H>>,
      cold: () => Container<H>,
      run: (handler: H) => Promise<R>,
    ): Promise<{ response: R | undefined; died: boolean }> {
      let container = warm.pop();
      if (!container) {
        container = cold();
        report.coldStarts++;
      }
      container.invocations++;
      handlersRanAt = nowMs;
      const response = await run(container.handler).catch(() => undefined);
      if (!container.dead) warm.push(container);
      return { response, died: container.dead };
    }
    const rawSqs = aws.clients.sqs;
    const store = createDynamoChannelStore({ client: aws.clients.doc, tableName, clock });
    const vault = createSecretsTokenVault({ client: aws.clients.secrets, prefix: 'x-channel/tokens/' });

    // ---- channels --------------------------------------------------------------------------------
    const tracked: TrackedChannel[] = [];
    for (let i = 0; i < channelCount; i++) {
      const username = `brand${options.seed % 100000}x${i}`.slice(0, 15);
      const { id: accountId } = sim.createUser({ username, name: `Brand ${i}` });
      const app = createXAppClient({ apiBaseUrl: sim.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
      const link = app.generateOAuth2AuthLink(REDIRECT_URI, { scope: SCOPES, state: `st${i}` });
      secrets.set(link.codeVerifier, 'code_verifier');
      const u = new URL(link.url);
      const authUrl = new URL(`${sim.url}${u.pathname}${u.search}`);
      const res = await fetch(authUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ username, decision: 'allow' }).toString(),
        redirect: 'manual',
      });
      const code = new URL(res.headers.get('location') ?? '').searchParams.get('code') ?? '';
      secrets.set(code, 'authorization_code');
      const login = await app.loginWithOAuth2({
        code,
        codeVerifier: link.codeVerifier,
        redirectUri: REDIRECT_URI,
      });
      const iso = clock.now().toISOString();
      const channel = activeChannel({
        id: `ch_${runName}_${i}`,
        account: { id: accountId, username, name: `Brand ${i}` },
        scopes: login.scope,
        at: iso,
      });
      await store.create(channel);
      await vault.put(channel.id, {
        accessToken: login.accessToken,
        refreshToken: login.refreshToken ?? null,
        expiresAt: new Date(nowMs + (login.expiresIn ?? 3600) * 1000).toISOString(),
        scopes: login.scope,
        updatedAt: iso,
      });
      tracked.push({ channel, accountId, username, revokedAt: null });
    }
    harvestSecrets();
    const customers = Array.from(
      { length: 3 },
      (_, i) => sim.createUser({ username: `cust${i}s${options.seed % 1000}`, name: `Customer ${i}` }).id,
    );

    // ---- what was created, what was received --------------------------------------------------------
    // keyed `<channelId>|<inbound id>`: the unit a consumer must see exactly once
    const created = new Map<string, { channelId: string; at: number }>();
    const received = new Map<string, number>();
    const itemKey = (channelId: string, id: string) => `${channelId}|${id}`;
    const inboundSeen: InboundMessage[] = [];
    const commands = new Map<
      string,
      { channelId: string; kind: string; media?: { case: MediaCase; sha256: string[] } }
    >();
    /** Set while `crash_after_media_upload` is armed: the next answer carries a valid image. */
    let mediaWanted = false;
    /**
     * `<channelId>|<reply kind>` while an X fault is armed on the write endpoint that kind of answer
     * posts through: the next such inbound item is answered (no media that fails before the post), so
     * the fault meets a call; it still counts only if one takes it.
     */
    const answerWanted = new Set<string>();
    const results = new Map<string, ResultMessage[]>();
    const tweetIdsByChannel = new Map<string, string[]>();

    const receive = (url: string, max = 10) =>
      rawSqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: max,
          WaitTimeSeconds: 0,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      );
    const ack = (url: string, m: Message) =>
      rawSqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
    const context = (fn: string) =>
      createLambdaContext({ functionName: fn, timeoutMs: 30_000, region: aws.region });

    // Poll jobs: the poller handler invoked with SQS-shaped events from real received messages.
    const failedPollJobs = new Map<string, Message>();
    async function invokePoller(messages: Message[]) {
      const records = messages.map((m) => toSqsRecord(m, queues.pollJobs.arn, aws.region));
      // a crashed container is gone; the next invocation starts a fresh one (an unfired crash stays armed)
      const { response, died } = await invoke(warmPollers, coldPoller, (handler) =>
        handler({ Records: records } as SQSEvent, context('poller')),
      );
      const failed = response === undefined || died ? 'all' : failedIdsFromResponse(response, records, true);
      for (const [i, r] of records.entries()) {
        if (failed === 'all' || failed.has(r.messageId)) failedPollJobs.set(r.messageId, messages[i]);
        else {
          failedPollJobs.delete(r.messageId);
          await ack(queues.pollJobs.url, messages[i]);
        }
      }
    }
    async function enqueuePoll(channelId: string) {
      await rawSqs.send(
        new SendMessageCommand({
          QueueUrl: queues.pollJobs.url,
          MessageBody: JSON.stringify({ channelId, tick: clock.now().toISOString() }),
        }),
      );
    }
    async function deliverPollJobs(concurrent: boolean) {
      for (let guard = 0; guard < 20; guard++) {
        const out = await receive(queues.pollJobs.url);
        const ms = out.Messages ?? [];
        if (!ms.length) return;
        if (concurrent && ms.length > 1) {
          count('duplicate_poll_jobs');
          await Promise.all(ms.map((m) => invokePoller([m])));
        } else await invokePoller(ms);
      }
    }
    /** Makes the failed poll jobs visible again at once and delivers them; returns how many there were. */
    async function redeliverPollJobs(): Promise<number> {
      const n = failedPollJobs.size;
      for (const m of failedPollJobs.values()) {
        await rawSqs
          .send(
            new ChangeMessageVisibilityCommand({
              QueueUrl: queues.pollJobs.url,
              ReceiptHandle: m.ReceiptHandle,
              VisibilityTimeout: 0,
            }),
          )
          .catch(() => undefined);
      }
      failedPollJobs.clear();
      await deliverPollJobs(false);
      return n;
    }

    // Outbound: the sender handler over real received outbound messages.
    const outboundInFlight = new Map<string, Message>();
    async function deliverOutbound() {
      for (let guard = 0; guard < 30; guard++) {
        const out = await receive(queues.outbound.url);
        const ms = out.Messages ?? [];
        if (!ms.length) return;
        const records: SQSRecord[] = ms.map((m) => toSqsRecord(m, queues.outbound.arn, aws.region));
        const { response, died } = await invoke(warmSenders, coldSender, (handler) =>
          handler({ Records: records } as SQSEvent, context('sender')),
        );
        const failed =
          response === undefined || died ? 'all' : failedIdsFromResponse(response, records, true);
        for (const [i, r] of records.entries()) {
          if (failed === 'all' || failed.has(r.messageId)) outboundInFlight.set(r.messageId, ms[i]);
          else {
            outboundInFlight.delete(r.messageId);
            await ack(queues.outbound.url, ms[i]);
          }
        }
      }
    }
    /** Ends the visibility of in-flight outbound messages now; returns how many there were. */
    async function expireOutbound(): Promise<number> {
      const n = outboundInFlight.size;
      for (const m of outboundInFlight.values()) {
        await rawSqs
          .send(
            new ChangeMessageVisibilityCommand({
              QueueUrl: queues.outbound.url,
              ReceiptHandle: m.ReceiptHandle,
              VisibilityTimeout: 0,
            }),
          )
          .catch(() => undefined);
      }
      outboundInFlight.clear();
      return n;
    }

    // The fake case system: reads inbound, answers some; reads results.
    let keySeq = 0;
    async function caseSystem(answerRate: number) {
      // everything on the queue first, then in (channel, id) order: concurrent polls of one invocation
      // publish in a timing-dependent order, and the answers below draw from the run's random stream
      const inbound: InboundMessage[] = [];
      for (;;) {
        const out = await receive(queues.inbound.url);
        if (!out.Messages?.length) break;
        for (const m of out.Messages) {
          surfaces.push(m.Body ?? '');
          const parsed = parseInbound(m.Body ?? '');
          if (!parsed.ok) throw new Error(`inbound body is not v1: ${parsed.error}`);
          inbound.push(parsed.value);
          await ack(queues.inbound.url, m);
        }
      }
      inbound.sort((a, b) => a.channelId.localeCompare(b.channelId) || a.id.localeCompare(b.id));
      for (const msg of inbound) {
        const k = itemKey(msg.channelId, msg.id);
        received.set(k, (received.get(k) ?? 0) + 1);
        note(`received ${k}`);
        inboundSeen.push(msg);
        const wanted = answerWanted.delete(`${msg.channelId}|${msg.replyTo.kind}`);
        if (rng.chance(answerRate) || wanted) {
          const key = `k${options.seed.toString(36)}-${++keySeq}`;
          const dm = msg.replyTo.kind === 'dm';
          const drawn: MediaCase | null = mediaWanted
            ? 'photo'
            : mediaRng.chance(0.4)
              ? mediaRng.pick(
                  dm
                    ? (['photo', 'photo', 'too_large', 'wrong_type', 'missing', 'not_allowed'] as const)
                    : ([
                        'photo',
                        'photo',
                        'photos',
                        'too_large',
                        'wrong_type',
                        'missing',
                        'not_allowed',
                      ] as const),
                )
              : null;
          // an answer wanted for a write fault posts: no media case that fails before the post
          const mediaCase = wanted && drawn && MEDIA_CASES[drawn] ? null : drawn;
          mediaWanted = false;
          const media = mediaCase ? mediaOf(mediaCase, dm) : null;
          const command = {
            schema: 'x-channel.outbound.v1',
            idempotencyKey: key,
            channelId: msg.channelId,
            kind: msg.replyTo.kind,
            targetId: msg.replyTo.targetId,
            text: `Thanks, we are on it [${key}]`,
            ...(media ? { mediaUrls: media.urls } : {}),
          };
          commands.set(key, {
            channelId: msg.channelId,
            kind: command.kind,
            ...(mediaCase && media ? { media: { case: mediaCase, sha256: media.sha256 } } : {}),
          });
          if (mediaCase) report.mediaCommands[mediaCase] = (report.mediaCommands[mediaCase] ?? 0) + 1;
          // sometimes the case system itself sends a command twice (its own retry)
          const copies = rng.chance(0.15) ? 2 : 1;
          for (let c = 0; c < copies; c++)
            await rawSqs.send(
              new SendMessageCommand({
                QueueUrl: queues.outbound.url,
                MessageBody: JSON.stringify(command),
                MessageGroupId: `${msg.channelId}:${msg.conversationId}`,
                MessageDeduplicationId: `${key}-${c}`,
              }),
            );
        }
      }
      for (;;) {
        const out = await receive(queues.results.url);
        if (!out.Messages?.length) break;
        for (const m of out.Messages) {
          surfaces.push(m.Body ?? '');
          const r = JSON.parse(m.Body ?? '{}') as ResultMessage;
          results.set(r.idempotencyKey, [...(results.get(r.idempotencyKey) ?? []), r]);
          await ack(queues.results.url, m);
        }
      }
    }

    // Customers write at X.
    function customerActivity() {
      const n = rng.int(0, 4);
      for (let i = 0; i < n; i++) {
        const t = rng.pick(tracked);
        const who = rng.pick(customers);
        advance(rng.int(200, 3000));
        const kind = rng.int(0, 2);
        if (kind === 0 || kind === 1) {
          const threads = tweetIdsByChannel.get(t.channel.id) ?? [];
          const parent = kind === 1 && threads.length ? rng.pick(threads) : undefined;
          const tw = sim.createTweet({
            authorId: who,
            text: `@${t.username} help please ${rng.int(0, 1e6)}`,
            inReplyToId: parent,
          });
          tweetIdsByChannel.set(t.channel.id, [...threads, tw.id]);
          created.set(itemKey(t.channel.id, `x:tweet:${tw.id}`), { channelId: t.channel.id, at: nowMs });
        } else {
          const dm = sim.sendDm({ senderId: who, recipientId: t.accountId, text: `dm ${rng.int(0, 1e6)}` });
          created.set(itemKey(t.channel.id, `x:dm:${dm.id}`), { channelId: t.channel.id, at: nowMs });
        }
      }
    }

    /**
     * A customer writes to `t` (a mention, or a DM) and the case system answers it: a fault or crash
     * point on the sender's path (a post, its result) meets a call while it is armed.
     */
    function wantAnswer(t: TrackedChannel, kind: 'reply' | 'dm') {
      if (kind === 'reply') {
        const tw = sim.createTweet({
          authorId: companion.pick(customers),
          text: `@${t.username} still there?`,
        });
        created.set(itemKey(t.channel.id, `x:tweet:${tw.id}`), { channelId: t.channel.id, at: nowMs });
      } else {
        const dm = sim.sendDm({
          senderId: companion.pick(customers),
          recipientId: t.accountId,
          text: 'still there?',
        });
        created.set(itemKey(t.channel.id, `x:dm:${dm.id}`), { channelId: t.channel.id, at: nowMs });
      }
      answerWanted.add(`${t.channel.id}|${kind}`);
    }

    function armXFault(kind: XFaultKind, picked: TrackedChannel) {
      // on a channel that still calls X: a revoked one never polls or posts again
      const live = tracked.filter((c) => c.revokedAt === null);
      const t = picked.revokedAt === null || !live.length ? picked : companion.pick(live);
      const readEndpoint = rng.pick(['GET /2/users/:id/mentions', 'GET /2/dm_events'] as const);
      // the write endpoints the sender posts answers through: a reply, a DM into the conversation
      // (`replyTo.targetId` of a DM is its conversation id; `…/with/:participant_id` is never called)
      const writeEndpoint = rng.pick([
        'POST /2/tweets',
        'POST /2/dm_conversations/:dm_conversation_id/messages',
      ] as const);
      // a burst on a read: the poll's own retry meets its second answer at once
      const endpoint =
        kind === 'x_post_timeout'
          ? writeEndpoint
          : kind === 'x_5xx_burst' || kind === 'x_429_after_5xx' || rng.chance(0.6)
            ? readEndpoint
            : writeEndpoint;
      const on = { endpoint, userId: t.accountId, label: kind };
      const specs: FaultSpec[] =
        kind === 'x_429'
          ? [{ ...on, kind: 'status', status: 429, resetSeconds: rng.int(5, 120), hold: true }]
          : kind === 'x_500'
            ? [{ ...on, kind: 'status', status: 500 }]
            : kind === 'x_503'
              ? [{ ...on, kind: 'status', status: 503 }]
              : kind === 'x_reset'
                ? [{ ...on, kind: 'reset' }]
                : kind === 'x_malformed'
                  ? [{ ...on, endpoint: readEndpoint, kind: 'malformed' }]
                  : kind === 'x_post_timeout'
                    ? [{ ...on, kind: 'timeout' }]
                    : kind === 'x_5xx_burst'
                      ? [{ ...on, kind: 'status', status: rng.pick([500, 503]), count: rng.int(2, 3) }]
                      : kind === 'x_429_after_5xx'
                        ? [
                            // the 5xx is part of the burst; the kind fires when its 429 is answered
                            { ...on, label: `${kind}/5xx`, kind: 'status', status: 503 },
                            { ...on, kind: 'status', status: 429, resetSeconds: rng.int(5, 120), hold: true },
                          ]
                        : [{ ...on, kind: 'latency', latencyMs: rng.int(20, 80), count: rng.int(3, 10) }];
      for (const spec of specs) sim.setFault(spec);
      arm(kind);
      // a post must happen while it is armed (a malformed body is armed on a read)
      if (endpoint === writeEndpoint && kind !== 'x_malformed')
        wantAnswer(t, writeEndpoint === 'POST /2/tweets' ? 'reply' : 'dm');
    }

    function armAwsFault(kind: AwsFaultKind) {
      const fire = () => count(kind);
      // 1–2 answers are absorbed by the SDK's own retries (3 attempts); 3 or more reach the product
      const remaining = rng.int(1, 4);
      const onlyCommand = () =>
        rng.chance(0.5)
          ? [rng.pick(['GetItemCommand', 'UpdateItemCommand', 'PutItemCommand', 'QueryCommand'])]
          : undefined;
      const fault: AwsFault =
        kind === 'ddb_throttle'
          ? {
              service: 'dynamodb',
              kind: 'error',
              status: 400,
              errorType: rng.pick(['ProvisionedThroughputExceededException', 'ThrottlingException']),
              commands: onlyCommand(),
              remaining,
              onFire: fire,
            }
          : kind === 'ddb_5xx'
            ? {
                service: 'dynamodb',
                kind: 'error',
                status: 500,
                errorType: 'InternalServerError',
                commands: onlyCommand(),
                remaining,
                onFire: fire,
              }
            : kind === 'sqs_throttle'
              ? {
                  service: 'sqs',
                  kind: 'error',
                  status: 400,
                  errorType: 'RequestThrottled',
                  remaining,
                  onFire: fire,
                }
              : kind === 'sqs_5xx'
                ? {
                    service: 'sqs',
                    kind: 'error',
                    ...rng.pick([
                      { status: 500, errorType: 'InternalError' },
                      { status: 503, errorType: 'ServiceUnavailable' },
                    ]),
                    remaining,
                    onFire: fire,
                  }
                : kind === 'sqs_batch_partial'
                  ? {
                      service: 'sqs',
                      kind: 'batch_partial',
                      queueUrl: queues.inbound.url,
                      // the publisher tries an entry 4 times: 4 refusals in a row reach the poll
                      remaining: rng.int(1, 4),
                      pickFailed: (ids) => {
                        const out = ids.filter(() => rng.chance(0.5));
                        return out.length ? out : [rng.pick(ids)];
                      },
                      onFire: fire,
                    }
                  : kind === 'secrets_throttle'
                    ? {
                        service: 'secrets',
                        kind: 'error',
                        status: 400,
                        errorType: 'ThrottlingException',
                        remaining,
                        onFire: fire,
                      }
                    : {
                        service: rng.pick(['dynamodb', 'sqs', 'secrets'] as const),
                        kind: 'slow',
                        delayMs: rng.int(20, 150),
                        remaining: rng.int(1, 3),
                        onFire: fire,
                      };
      awsFaults.arm(fault);
      arm(kind);
    }

    /** Arms `kind`; it is counted in `report.faults` only when it fires. */
    const arm = (k: FaultKind) => (report.armed[k] = (report.armed[k] ?? 0) + 1);
    let rotation = (options.seed * ROTATION_STRIDE) % ROTATION.length;
    let rotationPicks = 0;
    let duplicate = false;
    let redeliver = false;
    let expire = false;
    function armFault(kind: FaultKind) {
      const t = rng.pick(tracked);
      if ((CRASH_POINTS as readonly string[]).includes(kind)) {
        armed.add(kind as CrashPoint);
        arm(kind);
        // its 429 comes with it (a read, polled every step, or a post), holding X's window as a spent
        // one does; labelled apart so it does not count as an x_429
        // a batch of two or more must be published while it is armed: two mentions for one channel
        // and a checkpoint must move while crash_before_checkpoint is armed: a new mention for the channel
        if (kind === 'crash_partial_inbound_batch' || kind === 'crash_before_checkpoint')
          for (let i = 0; i < (kind === 'crash_partial_inbound_batch' ? 2 : 1); i++) {
            const tw = sim.createTweet({
              authorId: companion.pick(customers),
              text: `@${t.username} two at once ${i}`,
            });
            created.set(itemKey(t.channel.id, `x:tweet:${tw.id}`), { channelId: t.channel.id, at: nowMs });
          }
        // an upload must happen while it is armed: the next answer carries an image
        if (kind === 'crash_after_media_upload') mediaWanted = true;
        // a post and its result must happen while it is armed: a customer writes and is answered
        if (
          kind === 'crash_after_media_upload' ||
          kind === 'crash_after_x_post' ||
          kind === 'crash_after_result_send'
        ) {
          const live = tracked.filter((c) => c.revokedAt === null);
          wantAnswer(live.length ? companion.pick(live) : t, companion.chance(0.5) ? 'reply' : 'dm');
        }
        // a refresh must happen while it is armed: time passes the access token's life (as token_expiry)
        if (kind === 'crash_during_token_refresh') advance(3600_000 + companion.int(0, 600_000));
        if (kind === 'crash_before_rate_block')
          sim.setFault({
            endpoint: companion.chance(0.75)
              ? companion.pick(['GET /2/users/:id/mentions', 'GET /2/dm_events'] as const)
              : 'POST /2/tweets',
            userId: t.accountId,
            label: `${kind}/429`,
            kind: 'status',
            status: 429,
            resetSeconds: companion.int(5, 120),
            hold: true,
          });
      } else if ((X_FAULTS as readonly string[]).includes(kind)) armXFault(kind as XFaultKind, t);
      else if ((AWS_FAULTS as readonly string[]).includes(kind)) armAwsFault(kind as AwsFaultKind);
      else if (kind === 'token_expiry') {
        arm(kind);
        advance(3600_000 + rng.int(0, 600_000)); // past the access token's life: the next call refreshes
        count(kind);
      } else if (kind === 'token_revocation') {
        if (t.revokedAt !== null) return;
        arm(kind);
        sim.revokeUserTokens(t.accountId);
        t.revokedAt = nowMs;
        count(kind);
      } else {
        // the schedule's own SQS events, forced on for this step
        if (kind === 'duplicate_poll_jobs') duplicate = true;
        else if (kind === 'redelivery') redeliver = true;
        else expire = true;
        arm(kind);
      }
    }

    // ---- the schedule ------------------------------------------------------------------------------
    for (let step = 0; step < steps; step++) {
      customerActivity();
      duplicate = rng.chance(0.15);
      redeliver = rng.chance(0.3);
      expire = rng.chance(0.3);
      // sometimes two faults at once. A seed's first ROTATION_PICKS picks, and three in four after,
      // follow a rotation that starts at the seed (3 kinds further each seed), so any ten consecutive
      // seeds arm every kind at least once; the other picks are random. A seed that drew too few by
      // its last steps arms the rest there.
      const owed = ROTATION_PICKS - rotationPicks;
      if (rng.chance(faultRate) || owed >= steps - step) {
        for (let f = Math.max(rng.chance(0.3) ? 2 : 1, owed - (steps - step - 1)); f > 0; f--) {
          const fromRotation = rotationPicks < ROTATION_PICKS || rng.chance(0.75);
          if (fromRotation) rotationPicks++;
          armFault(fromRotation ? ROTATION[rotation++ % ROTATION.length] : rng.pick(FAULT_KINDS));
        }
      }
      await timed('sweep', () => sweepUntilNow());
      for (const t of tracked) {
        await enqueuePoll(t.channel.id);
        if (duplicate) await enqueuePoll(t.channel.id);
      }
      await timed('poll', () => deliverPollJobs(duplicate));
      if (redeliver && (await redeliverPollJobs())) count('redelivery');
      await timed('case', () => caseSystem(0.5));
      await timed('send', () => deliverOutbound());
      if (expire && (await expireOutbound())) count('visibility_expiry');
      await caseSystem(0);
      harvestSecrets();
      advance(rng.int(30_000, 90_000)); // past poll leases, rate resets and sender leases over time
    }

    // ---- quiesce: no new faults; let every retry, lease and reset run out ---------------------------
    // A fault armed in the last step (or on a call a block or a failed poll put off) meets its first
    // call here: crash points, X and AWS faults stay armed for the first round (each fires once, or its
    // few uses; seven rounds remain to recover), so none is dropped unfired for want of a call.
    mediaWanted = false;
    const quiesceStart = performance.now();
    for (let round = 0; round < 8; round++) {
      if (round === 1) {
        armed.clear();
        sim.clearFaults();
        awsFaults.clear();
        answerWanted.clear();
      }
      advance(16 * 60_000); // beyond the longest 429 reset and every lease
      await sweepUntilNow();
      const before = received.size + results.size;
      for (const t of tracked) await enqueuePoll(t.channel.id);
      await redeliverPollJobs();
      await caseSystem(0);
      await expireOutbound();
      await deliverOutbound();
      await caseSystem(0);
      // settled: a full round moved nothing and nothing waits for a retry
      const settled =
        received.size + results.size === before && !failedPollJobs.size && !outboundInFlight.size;
      if (round >= 1 && settled) break;
    }
    if (PROFILE) phases.quiesce = (phases.quiesce ?? 0) + performance.now() - quiesceStart;
    harvestSecrets();

    // ---- accounting --------------------------------------------------------------------------------
    for (const f of sim.firedFaults())
      if (f.label && (X_FAULTS as readonly string[]).includes(f.label)) count(f.label as XFaultKind);
    report.items = created.size;
    report.commands = commands.size;
    // A duplicate is the known remaining case only when SQS accepted the item in as many dedup windows
    // (5 simulated minutes from a window's first send) as it was delivered, and each later window began
    // while the delivered ledger did not hold the item because the invocation that published it before
    // died (a crash kills the container) or had its ledger write fail — never because it skipped it.
    for (const [key, n] of received) {
      if (n < 2) continue;
      const all = acceptances.get(key) ?? [];
      const windows: Acceptance[] = [];
      for (const a of all)
        if (!windows.length || a.at - windows[windows.length - 1].at >= SQS_DEDUP_WINDOW_MS) windows.push(a);
      const lostRecord = (w: Acceptance) => {
        const before = all.slice(0, all.indexOf(w));
        const p = before[before.length - 1];
        const died = p?.box.dead && p.box.invocations === p.invocation;
        return !w.ledgered && p !== undefined && p.record !== 'ok' && (died || p.record === 'failed');
      };
      const known = windows.length >= n && windows.slice(1).every(lostRecord);
      (known ? report.duplicatedAfterLostRecord : report.duplicated).push(`${key} x${n}`);
    }
    const accountIds = new Set(tracked.map((t) => t.accountId));
    for (const m of inboundSeen) if (accountIds.has(m.author.id)) report.echoes.push(m.id);
    // Refresh tokens presented twice: after a pair lost to a death (the named case) or not (a failure).
    const lostPairUsers = new Map<string, { channelId: string; at: number; presentations: number }>();
    for (const p of lostTokenPairs) {
      const t = tracked.find((x) => x.channel.id === p.channelId);
      if (t && !lostPairUsers.has(t.accountId))
        lostPairUsers.set(t.accountId, { channelId: p.channelId, at: p.at, presentations: 0 });
    }
    for (const e of sim.tokenLog())
      if (e.alreadySpent) {
        const lost = e.userId !== null ? lostPairUsers.get(e.userId) : undefined;
        if (lost !== undefined && lost.at <= e.at) lost.presentations++;
        else report.refreshReuse++;
      }
    for (const [, lost] of lostPairUsers)
      if (lost.presentations) report.refreshLostToDeath.push(`${lost.channelId} x${lost.presentations}`);
    for (const t of tracked) {
      const final = await store.get(t.channel.id);
      const mine = [...created].filter(([, v]) => v.channelId === t.channel.id).map(([id]) => id);
      const undelivered = mine.filter((id) => !received.has(id));
      if (final && final.status !== 'active') {
        report.accountedInHealth.push({
          channelId: t.channel.id,
          status: final.status,
          reason: final.statusReason,
          undelivered: undelivered.length,
        });
        surfaces.push(JSON.stringify(final));
      }
      // Excused only by a stop this run injected, matched to it: the user revoked the app at X and the
      // channel says needs_reauth with a reason. Any other stop (degraded, a needs_reauth nobody caused,
      // a revoked channel still active) leaves its undelivered items lost.
      const stoppedByRevocation =
        t.revokedAt !== null && final?.status === 'needs_reauth' && Boolean(final.statusReason);
      // or its refreshed pair died with a process this run killed, and X then refused the spent token
      const stoppedByLostPair =
        !stoppedByRevocation &&
        final?.status === 'needs_reauth' &&
        Boolean(final.statusReason) &&
        (lostPairUsers.get(t.accountId)?.presentations ?? 0) > 0;
      if ((stoppedByRevocation || stoppedByLostPair) && undelivered.length)
        report.excused.push({
          channelId: t.channel.id,
          cause: stoppedByRevocation ? 'token_revocation' : 'refresh_lost_to_death',
          items: undelivered.length,
        });
      else
        report.lost.push(
          ...undelivered.map((k) =>
            final && final.status !== 'active' ? `${k} (${final.status}, not injected)` : k,
          ),
        );
    }
    for (const [key] of commands) {
      const rs = results.get(key) ?? [];
      if (!rs.length) report.missingResults.push(key);
      else if (new Set(rs.map((r) => JSON.stringify(r))).size > 1) report.conflictingResults.push(key);
    }
    const posts = [
      ...sim.state.tweets.map((t) => ({ id: t.id, text: t.text, mediaKeys: t.mediaKeys })),
      ...sim.state.dms.map((d) => ({ id: d.id, text: d.text, mediaKeys: d.mediaKeys })),
    ];
    for (const [key] of commands) {
      const carrying = posts.filter((p) => p.text.includes(`[${key}]`));
      if (carrying.length > 1) report.doublePosts.push(`${key} x${carrying.length}`);
      const sent = (results.get(key) ?? []).find((r) => r.status === 'sent');
      if (sent && (carrying.length !== 1 || carrying[0].id !== sent.xId)) report.sentWithoutPost.push(key);
    }
    // Media: valid objects attached with their bytes, by the channel's account, in the post's category;
    // invalid ones failed with their code (not retryable), nothing posted. A channel the run revoked may
    // answer needs_reauth first (its status is checked before the media).
    const uploads = new Map(sim.state.media.map((m) => [m.key, m]));
    for (const [key, c] of commands) {
      if (!c.media) continue;
      const r = (results.get(key) ?? [])[0];
      if (!r) continue; // missingResults names it
      const t = tracked.find((x) => x.channel.id === c.channelId);
      const carrying = posts.filter((p) => p.text.includes(`[${key}]`));
      const bad = (why: string) => report.mediaMismatches.push(`${key} ${c.kind} ${c.media!.case}: ${why}`);
      const expected = MEDIA_CASES[c.media.case];
      if (expected) {
        if (carrying.length) bad(`posted ${carrying.length}x`);
        else if (r.status === 'sent') bad('sent');
        else if (r.error.code === expected) {
          if (r.error.retryable) bad(`${expected} retryable`);
        } else if (!(r.error.code === 'needs_reauth' && t?.revokedAt !== null))
          bad(`failed ${r.error.code}, expected ${expected}`);
      } else if (r.status === 'sent') {
        const attached = (carrying.find((p) => p.id === r.xId)?.mediaKeys ?? []).map((k) => uploads.get(k));
        const category = c.kind === 'dm' ? 'dm_image' : 'tweet_image';
        const ok =
          attached.length === c.media.sha256.length &&
          attached.every(
            (m, i) =>
              m?.sha256 === c.media!.sha256[i] && m.category === category && m.ownerId === t?.accountId,
          );
        if (!ok)
          bad(
            `sent with ${JSON.stringify(attached.map((m) => (m ? `${m.category}:${m.sha256?.slice(0, 8)}` : '?')))}`,
          );
      } else if (r.error.code.startsWith('media_')) bad(`valid media failed ${r.error.code}`);
    }
    // After a 429 with reset R on (endpoint, user), no call to it before R. The one exception, counted
    // apart: the first call inside a window whose 429 went to an invocation that died before the
    // block's write, answered 429 again by X (then stored); a second call is a violation.
    const windows = new Map<string, { until: number; openedAt: number; inside: number }>();
    for (const e of sim.rateLimitLog()) {
      const k = `${e.endpoint}|${e.userId}`;
      const w = windows.get(k);
      if (w && e.at < w.until * 1000) {
        w.inside++;
        const lost = lostBlocks.some(
          (d) => d.endpoint === e.endpoint && d.userId === e.userId && d.at >= w.openedAt && d.at <= e.at,
        );
        const at = `${k} at ${new Date(e.at).toISOString()}`;
        (lost && w.inside === 1 && e.status === 429
          ? report.rateCallsAfterLostBlock
          : report.rateViolations
        ).push(at);
      }
      if (e.status === 429 && e.reset && (!w || e.reset > w.until))
        windows.set(k, { until: e.reset, openedAt: e.at, inside: 0 });
    }
    // canonical: calls and events of one simulated moment sorted (their order within it is not the run's)
    report.fingerprint = createHash('sha256')
      .update([...trace].sort().join('\n'))
      .update(
        sim
          .rateLimitLog()
          .map((e) => `${e.at} ${e.endpoint} ${e.userId} ${e.status}`)
          .sort()
          .join('\n'),
      )
      .digest('hex')
      .slice(0, 16);
    for (const c of tracked) {
      const h = await fetchHealthSurface(store, c.channel.id);
      surfaces.push(h);
    }
    // DLQ bodies and error bodies of results are surfaces too.
    for (const url of [queues.outbound.dlqUrl, queues.pollJobs.dlqUrl, queues.inbound.dlqUrl]) {
      const out = await receive(url);
      for (const m of out.Messages ?? []) surfaces.push(JSON.stringify(m));
    }
    await sim.stop().catch(() => undefined);
  } finally {
    for (const f of cleanup) f();
    process.stdout.write = origOut;
    process.stderr.write = origErr;
    await sim.stop().catch(() => undefined);
  }
  if (process.env.XC_RELIABILITY_TRACE === '1') console.error(trace.join('\n'));
  const haystack = [...surfaces, ...captureOut].join('\n');
  for (const [value, kind] of secrets)
    if (value.length >= 8 && haystack.includes(value)) report.leaked.push(kind);
  return report;
}

async function fetchHealthSurface(store: ReturnType<typeof createDynamoChannelStore>, id: string) {
  return JSON.stringify(await store.get(id));
}

/** One line per failure class, naming the seed: printed by the tests and the soak script. */
export function describeFailure(r: RunReport): string {
  const parts = Object.entries({
    lost: r.lost,
    duplicated: r.duplicated,
    missingResults: r.missingResults,
    conflictingResults: r.conflictingResults,
    doublePosts: r.doublePosts,
    sentWithoutPost: r.sentWithoutPost,
    leaked: r.leaked,
    rateViolations: r.rateViolations,
    echoes: r.echoes,
    mediaMismatches: r.mediaMismatches,
  })
    .filter(([, v]) => v.length)
    .map(([k, v]) => `${k}=${JSON.stringify(v.slice(0, 5))}`);
  if (r.refreshReuse) parts.push(`refreshReuse=${r.refreshReuse}`);
  return `seed ${r.seed} (replay: npm run soak -- --seed ${r.seed}, fingerprint ${r.fingerprint}): ${parts.join(' ')}`;
}

function assertNeverCase(c: never): never {
  throw new Error(`unknown media case ${String(c)}`);
}
