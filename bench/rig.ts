/**
 * The bench rig: one scenario's private copy of the system, in process, on loopback — the SQS and
 * Secrets Manager stand-ins, a table of its own on the run's DynamoDB Local, the four queues of the
 * topology, the simulated X on a bench clock, and the real handlers built by their own `compose`
 * functions with counting AWS clients (bench/counting.ts). Channels are connected through the real
 * sign-in use cases (core/sign-in.ts) and the simulated X's authorize form, as an admin would.
 */
import { randomBytes } from 'node:crypto';
import { AsyncLocalStorage } from 'node:async_hooks';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import type { Context, SQSEvent } from 'aws-lambda';
import { createAwsClients, type AwsClients } from '../adapters/aws/clients';
import { createDynamoChannelStore } from '../adapters/aws/dynamo-channel-store';
import { createDynamoOAuthStateStore } from '../adapters/aws/dynamo-oauth-state';
import { QUEUES, type QueueRole } from '../adapters/aws/queues';
import { createSecretsAppCredentials } from '../adapters/aws/secrets-app-credentials';
import { createSecretsTokenVault } from '../adapters/aws/secrets-token-vault';
import { ensureTable } from '../adapters/aws/table';
import { createXOAuth } from '../adapters/x/oauth';
import type { ChannelSwitches } from '../core/channel';
import { createChannel, type SignInDeps } from '../core/channels';
import { completeSignIn, startAuthorization } from '../core/sign-in';
import type { Clock } from '../core/ports';
import { mapLimit } from '../core/inbound/concurrency';
import { createLogger } from '../lambdas/shared/logger';
import { startSqsEventSource, type SqsEventSource, type SqsHandler } from '../local/event-source';
import { startSimX, type SimX, type Tier } from '../sim/x/server';
import { startSecretsManager } from '../stand-ins/secrets-manager';
import { createQueueWithDlq, startSqs, type QueueWithDlq } from '../stand-ins/sqs';
import { AwsMeter, createCountingClients, destroyClients } from './counting';

// The handlers' Powertools metrics would print EMF lines into the bench table; the bench counts itself.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';

/** Quiet logger for the handlers under test (errors still show). */
export const benchLogger = createLogger({ serviceName: 'x-channel-bench', logLevel: 'ERROR' });

/**
 * The bench clock. Manual: time moves only when the harness calls `advance` (a round = one tick).
 * Accelerated: virtual time runs `speed` times faster than the wall clock (latency scenario).
 */
export class BenchClock {
  private offsetMs = 0;
  private readonly realStart = performance.now();
  constructor(
    private readonly startMs = Date.now(),
    private readonly speed = 0,
  ) {}
  /** Virtual epoch ms, whole (X's timestamps are integer milliseconds). */
  now(): number {
    return Math.floor(this.startMs + this.offsetMs + (performance.now() - this.realStart) * this.speed);
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
  /** The core `Clock` port over this clock. */
  readonly port: Clock = { now: () => new Date(this.now()) };
}

export interface RigOptions {
  dynamodbEndpoint: string;
  tier: Tier;
  clock: BenchClock;
  /** Poll-jobs visibility timeout (s): short, so a failed job is redelivered within a bench run. */
  pollJobsVisibilitySeconds?: number;
  /** Access-token lifetime at the simulated X (default X's 7200 s, in bench-clock time). */
  accessTokenTtlSeconds?: number;
  /** The simulated X's latency profile (real ms; absent = an instant X). */
  xLatency?: { p50Ms: number; p99Ms: number };
  /** Use this existing table on the run's DynamoDB Local (a scenario's earlier run) instead of a new one. */
  tableName?: string;
}

export interface Rig {
  clock: BenchClock;
  /** The X app's OAuth 1.0a consumer key and secret (real time: bearer token, webhook signatures). */
  xApp: { apiKey: string; apiKeySecret: string };
  sim: SimX;
  tableName: string;
  queues: Record<QueueRole, QueueWithDlq>;
  endpoints: { dynamodb: string; sqs: string; secretsManager: string };
  /** Uncounted clients for set-up and checks. */
  setup: AwsClients;
  /** Counted clients for the handlers. */
  meter: AwsMeter;
  clients: AwsClients;
  /** The environment the deployed functions get (plus the stand-ins' endpoints). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

const X_APP_SECRET_ID = 'x-channel/x-app';
const TOKEN_SECRET_PREFIX = 'x-channel/tokens/';
const REDIRECT_URI = 'http://127.0.0.1:9/oauth/callback';
const REGION = 'us-east-1';

const unique = () => `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

/** Starts a rig. */
export async function startRig(options: RigOptions): Promise<Rig> {
  const stops: Array<() => Promise<unknown> | unknown> = [];
  // The key pair the SQS and Secrets Manager stand-ins accept, fresh per rig.
  const credentials = {
    accessKeyId: `BENCH${unique()}`,
    secretAccessKey: randomBytes(30).toString('base64url'),
  };
  try {
    const [sqs, secrets, sim] = await Promise.all([
      startSqs({ port: 0, region: REGION, credentials }),
      startSecretsManager({ port: 0, region: REGION, credentials }),
      startSimX({
        port: 0,
        clock: { now: () => options.clock.now() },
        tier: options.tier,
        accessTokenTtlSeconds: options.accessTokenTtlSeconds,
        ...(options.xLatency?.p50Ms ? { latency: options.xLatency } : {}),
      }),
    ]);
    stops.push(
      () => sqs.stop(),
      () => secrets.stop(),
      () => sim.stop(),
    );
    const endpoints = {
      dynamodb: options.dynamodbEndpoint,
      sqs: sqs.endpoint,
      secretsManager: secrets.endpoint,
    };
    const setup = createAwsClients({ region: REGION, endpoints, credentials });
    const meter = new AwsMeter();
    const clients = createCountingClients({ region: REGION, endpoints, credentials }, meter);
    stops.push(
      () => destroyClients(setup),
      () => destroyClients(clients),
    );
    const tableName = options.tableName ?? `xc-bench-${unique()}`;
    const suffix = `-${unique()}`;
    // the app's OAuth 2.0 client and its OAuth 1.0a consumer key and secret (XAA bearer, webhook CRC
    // and signatures), in the X app secret as a deployment holds them
    const app = {
      clientId: `bench-${unique()}`,
      clientSecret: randomBytes(24).toString('base64url'),
      apiKey: `benchkey${unique()}`,
      apiKeySecret: randomBytes(30).toString('base64url'),
    };
    const [, queueEntries] = await Promise.all([
      options.tableName ? Promise.resolve() : ensureTable(setup.dynamodb, tableName),
      Promise.all(
        (Object.keys(QUEUES) as QueueRole[]).map(async (role) => {
          const spec =
            role === 'pollJobs' && options.pollJobsVisibilitySeconds
              ? { ...QUEUES[role], visibilityTimeoutSeconds: options.pollJobsVisibilitySeconds }
              : QUEUES[role];
          return [role, await createQueueWithDlq(setup.sqs, spec, suffix)] as const;
        }),
      ),
      setup.secrets.send(
        new CreateSecretCommand({ Name: X_APP_SECRET_ID, SecretString: JSON.stringify(app) }),
      ),
    ]);
    const queues = Object.fromEntries(queueEntries) as Record<QueueRole, QueueWithDlq>;
    sim.registerApp({ ...app, name: 'x-channel bench', redirectUris: [REDIRECT_URI] });
    const env: Record<string, string> = {
      AWS_REGION: REGION,
      TABLE_NAME: tableName,
      LOG_LEVEL: 'ERROR',
      XC_DYNAMODB_ENDPOINT: endpoints.dynamodb,
      XC_SQS_ENDPOINT: endpoints.sqs,
      XC_SECRETS_ENDPOINT: endpoints.secretsManager,
      X_API_BASE_URL: sim.url,
      X_AUTHORIZE_URL: `${sim.url}/i/oauth2/authorize`,
      X_APP_SECRET_ID,
      TOKEN_SECRET_PREFIX,
      X_TIER: options.tier,
      POLL_JOBS_QUEUE_URL: queues.pollJobs.url,
      INBOUND_QUEUE_URL: queues.inbound.url,
      OUTBOUND_QUEUE_URL: queues.outbound.url,
      OUTBOUND_DLQ_URL: queues.outbound.dlqUrl,
      RESULTS_QUEUE_URL: queues.results.url,
    };
    return {
      clock: options.clock,
      xApp: { apiKey: app.apiKey, apiKeySecret: app.apiKeySecret },
      sim,
      tableName,
      queues,
      endpoints,
      setup,
      meter,
      clients,
      env,
      async stop() {
        for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => undefined);
      },
    };
  } catch (e) {
    for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => undefined);
    throw e;
  }
}

/** A connected channel: our id and the X account behind it. */
export interface BenchChannel {
  channelId: string;
  accountId: string;
  username: string;
}

/**
 * Connects `count` channels through the real sign-in use cases: create → authorize URL (state + PKCE)
 * → the simulated X's authorize form (POST, `decision=allow`) → callback (code exchange, `users/me`,
 * account claim, tokens into the Secrets Manager vault, channel active).
 */
export async function connectChannels(
  rig: Rig,
  count: number,
  switches: ChannelSwitches = { listenMentions: true, listenDms: true, autoFollow: false },
  prefix = 'acct',
): Promise<BenchChannel[]> {
  const { setup, tableName, clock } = rig;
  const deps: SignInDeps = {
    clock: clock.port,
    channels: createDynamoChannelStore({ client: setup.doc, tableName, clock: clock.port }),
    states: createDynamoOAuthStateStore({ client: setup.doc, tableName }),
    vault: createSecretsTokenVault({ client: setup.secrets, prefix: TOKEN_SECRET_PREFIX }),
    oauth: createXOAuth({
      apiBaseUrl: rig.sim.url,
      authorizeUrl: `${rig.sim.url}/i/oauth2/authorize`,
      credentials: createSecretsAppCredentials({ client: setup.secrets, secretId: X_APP_SECRET_ID }),
    }),
  };
  const run = unique();
  return mapLimit(
    Array.from({ length: count }, (_, i) => i),
    16,
    async (i) => {
      const username = `${prefix}${i}_${run}`.slice(0, 15);
      const user = rig.sim.createUser({ username, name: `Bench ${prefix} ${i}` });
      const { channel } = await createChannel(deps, { ...switches, name: username });
      const { authorizeUrl } = await startAuthorization(deps, {
        channelId: channel.id,
        adminSub: 'bench-admin',
        redirectUri: REDIRECT_URI,
        browserBindingHash: null,
      });
      const url = new URL(authorizeUrl);
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ username, decision: 'allow' }).toString(),
        redirect: 'manual',
      });
      const location = new URL(res.headers.get('location') ?? 'http://invalid/');
      const outcome = await completeSignIn(deps, {
        state: location.searchParams.get('state') ?? undefined,
        code: location.searchParams.get('code') ?? undefined,
      });
      if (!outcome.ok) throw new Error(`bench: connecting ${username} failed (${outcome.error})`);
      return { channelId: channel.id, accountId: user.id, username };
    },
  );
}

/** Which poll job a handler is working on (for per-message attribution across awaits). */
export const currentJob = new AsyncLocalStorage<{ channelId?: string; tick?: string }>();

/** Invocation stats of a metered function. */
export interface InvocationStats {
  invocations: number;
  failedRecords: number;
}

/**
 * Wraps a Lambda handler so each invocation is metered (wall time → `meter.invocation`) and runs with
 * its poll job in `currentJob`.
 */
export function meteredHandler(
  name: string,
  handler: (event: SQSEvent, context: Context) => unknown,
  meter: AwsMeter,
  stats: InvocationStats,
  onDone?: (event: SQSEvent) => void,
): SqsHandler {
  return async (event, context) => {
    let job: { channelId?: string; tick?: string } = {};
    try {
      job = JSON.parse(event.Records[0]?.body ?? '{}') as typeof job;
    } catch {
      // not a poll job (sender): nothing to attribute
    }
    const t0 = performance.now();
    try {
      const out = (await currentJob.run(job, () => handler(event, context))) as
        { batchItemFailures?: unknown[] } | undefined;
      stats.failedRecords += out?.batchItemFailures?.length ?? 0;
      return out;
    } finally {
      meter.invocation(name, performance.now() - t0);
      stats.invocations++;
      onDone?.(event);
    }
  };
}

/** Starts Lambda-semantics consumption of `queueUrl` with the rig's counted SQS client. */
export function consume(
  rig: Rig,
  queue: QueueRole,
  functionName: string,
  handler: SqsHandler,
  opts: { batchSize: number; maxConcurrency: number },
): Promise<SqsEventSource> {
  return startSqsEventSource({
    sqs: rig.clients.sqs,
    queueUrl: rig.queues[queue].url,
    handler,
    functionName,
    region: REGION,
    batchSize: opts.batchSize,
    maxConcurrency: opts.maxConcurrency,
    functionTimeoutMs: 30_000,
    waitTimeSeconds: 1,
    stopTimeoutMs: 30_000,
    logger: benchLogger,
  });
}

/** Waits until `done()` or `timeoutMs`; true when done. */
export async function waitFor(done: () => boolean, timeoutMs: number, stepMs = 10): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > end) return false;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return true;
}

/** Percentile (nearest rank) of an ascending-sorted array. */
export function percentile(sorted: number[], p: number): number | null {
  if (!sorted.length) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/** A connected channel's current access token, from the token vault (bench-side set-up only). */
export async function channelAccessToken(rig: Rig, channelId: string): Promise<string> {
  const vault = createSecretsTokenVault({ client: rig.setup.secrets, prefix: TOKEN_SECRET_PREFIX });
  const tokens = await vault.get(channelId);
  if (!tokens) throw new Error(`bench: channel ${channelId} has no tokens in the vault`);
  return tokens.accessToken;
}
