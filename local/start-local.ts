/**
 * The whole x-channel stack in one process: the AWS stand-ins, the simulated X, the table and queues,
 * the handlers behind the local HTTP host, the schedule and the SQS event sources. `npm start`
 * (`local/main.ts`) calls it with ports from flags/env; tests, the e2e browser test and the bench
 * call it with `memory: true` and port 0 everywhere.
 *
 * Start-up order matters:
 *  1. stand-ins + simulated X + HTTP host (routes answer 503 until step 4) in parallel → their URLs are known;
 *  2. table, queues with DLQs, the X app secret, the app registered at the simulated X;
 *  3. the handler environment in `process.env` — before any handler is imported (cold start reads it);
 *  4. handlers imported, then routes, schedule and event sources switched on; `local.json` written.
 * Shutdown runs the other way: no new work, in-flight work finished or left for redelivery, servers
 * closed, state flushed.
 *
 * Over ~500 lines on purpose: the four start-up steps and their mirror-image shutdown read as one
 * sequence; split, the order above would be spread over files that each hold half of a step.
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  ResourceExistsException,
} from '@aws-sdk/client-secrets-manager';
import type { Logger } from '@aws-lambda-powertools/logger';
import { createAwsClients, type AwsClients } from '../adapters/aws/clients';
import { QUEUES, type QueueRole } from '../adapters/aws/queues';
import { ensureTable } from '../adapters/aws/table';
import { createS3Client, LOCAL_MEDIA_BUCKET } from '../adapters/aws/s3';
import { createLogger, registerSecretValue } from '../lambdas/shared/logger';
import { startDynamoDbLocal } from '../stand-ins/dynamodb-local';
import { startEventBridge, type DeliveredEvent } from '../stand-ins/eventbridge';
import { ensureBucket, startS3 } from '../stand-ins/s3';
import { startSecretsManager } from '../stand-ins/secrets-manager';
import { createQueueWithDlq, startSqs, type QueueWithDlq } from '../stand-ins/sqs';
import type { SimX, SimXOptions } from '../sim/x/server';
import {
  startSqsEventSource,
  type EventSourceStats,
  type SqsEventSource,
  type SqsHandler,
} from './event-source';
import { HANDLERS } from '../lib/handlers';
import { httpRoutes, loadHandlers, REPO_ROOT, type FunctionName } from './handlers';
import { startHttpHost, type HttpHandler, type HttpHost } from './http-host';
import { createConsoleSignIn } from './console-sign-in';
import { writeLocalJson, type LocalJson } from './local-json';
import type { PortSettings } from './options';
import { startScheduler, type ScheduleHandler, type Scheduler } from './scheduler';

/** Secrets Manager id of the X app credentials (`{ "clientId", "clientSecret" }`). */
export const X_APP_SECRET_ID = 'x-channel/x-app';
export const TOKEN_SECRET_PREFIX = 'x-channel/tokens/';
export const DEFAULT_TABLE_NAME = 'x-channel';

export interface StartLocalOptions {
  /** No state on disk (default false). `local.json` is still written to `dataDir`. */
  memory?: boolean;
  /** State and `local.json` (default `.x-channel` under the current directory). */
  dataDir?: string;
  /** Fixed ports; each omitted one is 0 (a free port). */
  ports?: Partial<PortSettings>;
  region?: string;
  /** Dispatcher schedule (default 60 000 ms). */
  scheduleIntervalMs?: number;
  /** Real X instead of the simulator. */
  realX?: { clientId: string; clientSecret: string; baseUrl: string; authorizeUrl: string };
  /** Reuse a running DynamoDB Local (tests share one per run) instead of starting one. */
  dynamodbEndpoint?: string;
  /** Default `x-channel`; give a unique one when sharing a DynamoDB Local. */
  tableName?: string;
  /** Which functions to load (default all four). */
  functions?: readonly FunctionName[];
  /** Simulated customers' mentions and DMs per minute to the signed-in accounts (default 0: off). */
  crowdPerMinute?: number;
  /** Long-poll wait of the event sources, 0–20 s (default 20). */
  receiveWaitSeconds?: number;
  /** How long `stop()` waits for in-flight batches (default 10 000 ms). */
  drainTimeoutMs?: number;
  logger?: Logger;
}

export interface LocalStack {
  localJson: LocalJson;
  /** Where `local.json` was written. */
  localJsonPath: string;
  /** Functions that failed to load, with the reason (their routes answer 503; schedule/consumer are off). */
  failed: Array<{ name: FunctionName; reason: string }>;
  /** Whether the simulated X could be started (false: `sim/x` is not built yet, or real X). */
  simulatedX: boolean;
  /** Why the simulated X is not running, when it should be. */
  simulatedXProblem?: string;
  /** The queue URLs of all four queues and their DLQs. */
  queues: Record<QueueRole, QueueWithDlq>;
  tableName: string;
  /** Start-up phases in ms: servers up, table/queues/secret ready, handlers imported, total. */
  startupMs: { servers: number; resources: number; handlers: number; total: number };
  /** Live counters: per consumer (`poller`, `sender`) its event-source stats, and dispatcher ticks. */
  status(): {
    consumers: Partial<Record<FunctionName, EventSourceStats>>;
    dispatcherTicks: number;
    /** Completed ticks of the api function's revocation retry (core/revocations.ts). */
    revocationTicks: number;
  };
  /** The events the dispatcher's alerts put on the EventBridge stand-in, oldest first. */
  alertEvents(): DeliveredEvent[];
  /** Another one-time console sign-in link (what `POST /_local/sign-in-links` gives). */
  newSignInLink(): { url: string; expiresAt: string };
  /** Graceful shutdown; safe to call twice. */
  stop(): Promise<void>;
}

interface PersistedState {
  adminToken: string;
  /** `apiKey`/`apiKeySecret`: the app's OAuth 1.0a consumer key and secret (XAA bearer, webhook CRC and signatures). */
  simApp: { clientId: string; clientSecret: string; apiKey: string; apiKeySecret: string };
  /** The key pair the local AWS stand-ins accept (`local.json` `credentials`). */
  awsCredentials: { accessKeyId: string; secretAccessKey: string };
}

/** DynamoDB Local refuses a `-dbPath` that does not exist yet. */
function ensureDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/**
 * The data directory holds tokens and keys: it is 0700 and every file in it 0600, including what an
 * older version left 0755/0644 (fixed here, on every start and stop).
 */
function secureDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const walk = (d: string) => {
    chmodSync(d, 0o700);
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) chmodSync(p, 0o600);
    }
  };
  walk(dir);
}

const random = (bytes: number) => randomBytes(bytes).toString('base64url');

/** An AWS-shaped key pair (20-character id, 40-character secret), random per data directory. */
function freshAwsCredentials(): PersistedState['awsCredentials'] {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const id = [...randomBytes(13)].map((b) => alphabet[b % 32]).join('');
  return { accessKeyId: `XCLOCAL${id}`, secretAccessKey: randomBytes(30).toString('base64') };
}

function freshState(): PersistedState {
  return {
    adminToken: random(32),
    simApp: {
      clientId: `local-${random(12)}`,
      clientSecret: random(32),
      apiKey: random(18),
      apiKeySecret: random(36),
    },
    awsCredentials: freshAwsCredentials(),
  };
}

/**
 * The admin token, the simulated X app's credentials and the stand-ins' AWS key pair: generated
 * once, kept (0600) unless in memory. A state file from before the key pair existed gets one added.
 */
function loadOrCreateState(dataDir: string, memory: boolean): PersistedState {
  if (memory) return freshState();
  const file = path.join(dataDir, 'local-state.json');
  if (existsSync(file)) {
    try {
      const s = JSON.parse(readFileSync(file, 'utf8')) as Partial<PersistedState>;
      if (
        typeof s.adminToken === 'string' &&
        s.adminToken.length >= 16 &&
        s.simApp?.clientId &&
        s.simApp.clientSecret
      ) {
        const c = s.awsCredentials;
        const hasAws = c && typeof c.accessKeyId === 'string' && typeof c.secretAccessKey === 'string';
        if (s.simApp.apiKey && s.simApp.apiKeySecret && hasAws) return s as PersistedState;
        // A state file from before XAA or the AWS key pair: keep everything, add what is missing.
        return writeState(file, {
          ...(s as PersistedState),
          simApp: {
            ...s.simApp,
            apiKey: s.simApp.apiKey || random(18),
            apiKeySecret: s.simApp.apiKeySecret || random(36),
          },
          awsCredentials: hasAws ? c : freshAwsCredentials(),
        });
      }
    } catch {
      // Unreadable: replaced below; the old admin token simply stops working.
    }
  }
  return writeState(file, freshState());
}

function writeState(file: string, s: PersistedState): PersistedState {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(s, null, 2), { mode: 0o600 });
  renameSync(tmp, file);
  chmodSync(file, 0o600);
  return s;
}

async function seedAppSecret(
  clients: AwsClients,
  value: { clientId: string; clientSecret: string; apiKey?: string; apiKeySecret?: string },
): Promise<void> {
  const SecretString = JSON.stringify(value);
  try {
    await clients.secrets.send(new CreateSecretCommand({ Name: X_APP_SECRET_ID, SecretString }));
  } catch (e) {
    if (!(e instanceof ResourceExistsException) && (e as Error).name !== 'ResourceExistsException') throw e;
    await clients.secrets.send(new PutSecretValueCommand({ SecretId: X_APP_SECRET_ID, SecretString }));
  }
}

/** The simulator's start function, or why there is none (it is built by someone else, maybe later). */
async function loadSimX(): Promise<{ start?: (o: SimXOptions) => Promise<SimX>; reason?: string }> {
  const file = path.join(REPO_ROOT, 'sim', 'x', 'server.ts');
  if (!existsSync(file)) return { reason: 'sim/x/server.ts is not built yet' };
  try {
    const mod = (await import(file)) as { startSimX?: (o: SimXOptions) => Promise<SimX> };
    if (typeof mod.startSimX === 'function') return { start: mod.startSimX };
    return { reason: 'sim/x/server.ts does not export startSimX' };
  } catch (e) {
    return { reason: `sim/x/server.ts failed to load (${(e as Error)?.message})` };
  }
}

/** Runs `stops` in order, each bounded and isolated: one failing stop must not keep the rest running. */
async function runStops(
  log: Logger,
  stops: Array<[string, () => Promise<unknown> | unknown]>,
): Promise<void> {
  for (const [name, stop] of stops) {
    try {
      await stop();
    } catch (e) {
      log.error('stop failed', {
        component: name,
        errorName: (e as Error)?.name,
        errorMessage: (e as Error)?.message,
      });
    }
  }
}

/**
 * Starts the whole stack.
 *
 * @example
 * const stack = await startLocal({ memory: true, dataDir: tmpDir });
 * await fetch(`${stack.localJson.apiUrl}/channels`, { headers: { authorization: `Bearer ${stack.localJson.adminToken}` } });
 * await stack.stop();
 */
export async function startLocal(options: StartLocalOptions = {}): Promise<LocalStack> {
  const memory = options.memory ?? false;
  const dataDir = path.resolve(options.dataDir ?? '.x-channel');
  const region = options.region ?? 'us-east-1';
  const ports: PortSettings = { api: 0, x: 0, dynamodb: 0, sqs: 0, secrets: 0, s3: 0, ...options.ports };
  const tableName = options.tableName ?? DEFAULT_TABLE_NAME;
  const log = options.logger ?? createLogger({ serviceName: 'x-channel-local' });
  const t0 = Date.now();
  const startupMs = { servers: 0, resources: 0, handlers: 0, total: 0 };
  // Files this process (and DynamoDB Local, which inherits the mask) creates from here on are
  // owner-only: the stand-ins' and the simulated X's state files hold tokens and secrets.
  try {
    process.umask(0o077);
  } catch {
    // Not allowed in a worker thread: secureDataDir() at stop still fixes the modes.
  }
  secureDataDir(dataDir);
  const state = loadOrCreateState(dataDir, memory);
  const credentials = state.awsCredentials;
  registerSecretValue(state.adminToken);
  registerSecretValue(state.simApp.clientSecret);
  registerSecretValue(state.simApp.apiKeySecret);
  registerSecretValue(credentials.secretAccessKey);
  if (options.realX) registerSecretValue(options.realX.clientSecret);

  // The console's one-time sign-in links and the sessions they open (in memory only).
  const signIn = createConsoleSignIn();

  // Everything started so far, stopped in reverse if start-up fails half-way.
  const stops: Array<[string, () => Promise<unknown> | unknown]> = [];
  try {
    const sim = options.realX ? {} : await loadSimX();
    const startSimX = sim.start;
    const settled = await Promise.allSettled([
      options.dynamodbEndpoint
        ? { endpoint: options.dynamodbEndpoint, stop: async () => undefined }
        : startDynamoDbLocal({
            port: ports.dynamodb,
            ...(memory ? {} : { dataDir: ensureDir(path.join(dataDir, 'dynamodb')) }),
          }).then((d) => (stops.push(['dynamodb', () => d.stop()]), d)),
      startSqs({
        port: ports.sqs,
        region,
        credentials,
        ...(memory ? {} : { dataFile: path.join(dataDir, 'sqs.json') }),
      }).then((s) => (stops.push(['sqs', () => s.stop()]), s)),
      startSecretsManager({
        port: ports.secrets,
        region,
        credentials,
        ...(memory ? {} : { dataDir: path.join(dataDir, 'secrets') }),
      }).then((s) => (stops.push(['secrets', () => s.stop()]), s)),
      startS3({
        port: ports.s3,
        region,
        credentials,
        ...(memory ? {} : { dataDir: path.join(dataDir, 's3') }),
      }).then((s) => (stops.push(['s3', () => s.stop()]), s)),
      // alerts (core/alerts/) are EventBridge events: each one is printed as one line, no secrets
      startEventBridge({
        region,
        credentials,
        onEvent: (e) => {
          const d = e.detail as {
            id?: string;
            kind?: string;
            severity?: string;
            state?: string;
            title?: string;
            consoleUrl?: string | null;
          };
          log[d.state === 'open' ? 'warn' : 'info'](d.state === 'open' ? 'alert opened' : 'alert cleared', {
            alertId: d.id,
            kind: d.kind,
            severity: d.severity,
            title: d.title,
            consoleUrl: d.consoleUrl,
          });
        },
      }).then((s) => (stops.push(['eventbridge', () => s.stop()]), s)),
      startSimX
        ? startSimX({
            port: ports.x,
            host: '127.0.0.1',
            ...(memory ? {} : { dataFile: path.join(dataDir, 'sim-x.json') }),
          }).then((x) => (stops.push(['simulated X', () => x.stop()]), x))
        : undefined,
      startHttpHost({
        // every route answers 503 until its function is imported (step 4)
        routes: [...signIn.routes, ...httpRoutes({})],
        adminToken: state.adminToken,
        acceptsToken: signIn.isSession,
        port: ports.api,
        region,
        logger: log,
      }).then((h) => (stops.push(['http', () => h.stop()]), h)),
    ] as const);
    for (const r of settled) if (r.status === 'rejected') throw r.reason;
    const [dynamodb, sqs, secrets, s3, eventBridge, simX, host] = settled.map(
      (r) => (r as PromiseFulfilledResult<unknown>).value,
    ) as [
      { endpoint: string },
      { endpoint: string },
      { endpoint: string; migration?: string },
      { endpoint: string },
      Awaited<ReturnType<typeof startEventBridge>>,
      SimX | undefined,
      HttpHost,
    ];
    if (sim.reason) log.warn('simulated X unavailable; X calls will fail', { reason: sim.reason });
    if (secrets.migration)
      log.warn('secrets stand-in data directory migrated', { detail: secrets.migration });

    const endpoints = {
      dynamodb: dynamodb.endpoint,
      sqs: sqs.endpoint,
      secretsManager: secrets.endpoint,
      s3: s3.endpoint,
    };
    const clients = createAwsClients({ region, endpoints, credentials });
    const s3Client = createS3Client({ region, endpoint: endpoints.s3, credentials });
    stops.push([
      'clients',
      () => {
        clients.dynamodb.destroy();
        clients.sqs.destroy();
        clients.secrets.destroy();
        s3Client.destroy();
      },
    ]);
    const apiUrl = host.url;
    const redirectUri = `${apiUrl}/oauth/callback`;
    const xBaseUrl = options.realX?.baseUrl ?? simX?.url ?? `http://127.0.0.1:${ports.x || 4010}`;
    const app = options.realX ?? state.simApp;

    startupMs.servers = Date.now() - t0;
    const [, , queueEntries] = await Promise.all([
      ensureTable(clients.dynamodb, tableName),
      ensureBucket(s3Client, LOCAL_MEDIA_BUCKET),
      Promise.all(
        (Object.keys(QUEUES) as QueueRole[]).map(
          async (role) => [role, await createQueueWithDlq(clients.sqs, QUEUES[role])] as const,
        ),
      ),
      seedAppSecret(clients, {
        clientId: app.clientId,
        clientSecret: app.clientSecret,
        // The simulated app's consumer key and secret, for the XAA webhook (CRC, signatures, bearer).
        ...(options.realX ? {} : { apiKey: state.simApp.apiKey, apiKeySecret: state.simApp.apiKeySecret }),
      }),
    ]);
    const queues = Object.fromEntries(queueEntries) as Record<QueueRole, QueueWithDlq>;
    simX?.registerApp({
      clientId: state.simApp.clientId,
      clientSecret: state.simApp.clientSecret,
      apiKey: state.simApp.apiKey,
      apiKeySecret: state.simApp.apiKeySecret,
      name: 'x-channel (local)',
      redirectUris: [redirectUri],
    });
    if (simX && options.crowdPerMinute) {
      const { startCrowd } = await import('../sim/x/crowd');
      const crowd = startCrowd(simX, { ratePerMinute: options.crowdPerMinute, targets: 'all-signed-in' });
      stops.push(['scheduler', () => crowd.stop()]);
    }

    // The handlers' environment, exactly the variables the deployed functions get (plus endpoints).
    Object.assign(process.env, {
      AWS_REGION: region,
      // What Lambda gives a function; adapters/aws/clients.ts signs the stand-in calls with them.
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      TABLE_NAME: tableName,
      XC_DYNAMODB_ENDPOINT: endpoints.dynamodb,
      XC_SQS_ENDPOINT: endpoints.sqs,
      XC_SECRETS_ENDPOINT: endpoints.secretsManager,
      XC_S3_ENDPOINT: endpoints.s3,
      MEDIA_BUCKET: LOCAL_MEDIA_BUCKET,
      X_API_BASE_URL: xBaseUrl,
      X_AUTHORIZE_URL: options.realX?.authorizeUrl ?? `${xBaseUrl}/i/oauth2/authorize`,
      X_APP_SECRET_ID,
      TOKEN_SECRET_PREFIX,
      POLL_JOBS_QUEUE_URL: queues.pollJobs.url,
      INBOUND_QUEUE_URL: queues.inbound.url,
      OUTBOUND_QUEUE_URL: queues.outbound.url,
      RESULTS_QUEUE_URL: queues.results.url,
      POLL_JOBS_DLQ_URL: queues.pollJobs.dlqUrl,
      INBOUND_DLQ_URL: queues.inbound.dlqUrl,
      OUTBOUND_DLQ_URL: queues.outbound.dlqUrl,
      RESULTS_DLQ_URL: queues.results.dlqUrl,
      OAUTH_REDIRECT_URI: redirectUri,
      CONSOLE_ORIGIN: apiUrl,
      WEBHOOK_PUBLIC_URL: `${apiUrl}/x/webhook`,
      XC_EVENTBRIDGE_ENDPOINT: eventBridge.endpoint,
      CONSOLE_URL: `${apiUrl}/`,
      ALERT_DEPLOYMENT: 'local',
    });

    startupMs.resources = Date.now() - t0 - startupMs.servers;
    const loaded = await loadHandlers(options.functions);
    startupMs.handlers = Date.now() - t0 - startupMs.servers - startupMs.resources;
    const { handlers } = loaded;
    for (const f of loaded.failed) {
      log.error('handler failed to load; it is off', { functionName: f.name, reason: f.reason });
    }
    host.setRoutes([...signIn.routes, ...httpRoutes(handlers as Partial<Record<FunctionName, HttpHandler>>)]);
    if (simX && handlers.webhook) {
      // the simulated X delivers XAA events to the local /x/webhook (its CRC reaches the route above)
      const { registerLocalWebhook } = await import('./xaa-webhook');
      await registerLocalWebhook({
        xBaseUrl,
        apiKey: state.simApp.apiKey,
        apiKeySecret: state.simApp.apiKeySecret,
        webhookUrl: `${apiUrl}/x/webhook`,
      }).then(
        (hook) => log.info('simulated X webhook registered', { webhookId: hook.id, valid: hook.valid }),
        (e: Error) => log.warn('simulated X webhook not registered; real time is off', { reason: e.message }),
      );
    }

    const sources: SqsEventSource[] = [];
    const sourceByFunction: Partial<Record<FunctionName, SqsEventSource>> = {};
    let scheduler: Scheduler | undefined;
    const drainTimeoutMs = options.drainTimeoutMs ?? 10_000;
    // Registered before they start, so a failure while starting still stops what runs.
    stops.unshift(['event sources', () => Promise.all(sources.map((s) => s.stop()))]);
    stops.unshift(['scheduler', () => scheduler?.stop()]);
    let watchScheduler: Scheduler | undefined;
    stops.unshift(['scheduler', () => watchScheduler?.stop()]);
    let revocationScheduler: Scheduler | undefined;
    stops.unshift(['scheduler', () => revocationScheduler?.stop()]);
    const consumers: Array<[FunctionName, QueueRole, number, number]> = [
      // function, queue, batch size, max concurrent batches
      ['poller', 'pollJobs', 5, 4],
      ['sender', 'outbound', 10, 2],
    ];
    for (const [fn, role, batchSize, maxConcurrency] of consumers) {
      const handler = handlers[fn];
      if (!handler) continue;
      const source = (sourceByFunction[fn] = await startSqsEventSource({
        sqs: clients.sqs,
        queueUrl: queues[role].url,
        handler: handler as SqsHandler,
        functionName: fn,
        region,
        batchSize,
        maxConcurrency,
        // Below the queue's visibility timeout, as Lambda requires.
        functionTimeoutMs: Math.min(60_000, QUEUES[role].visibilityTimeoutSeconds * 1000),
        stopTimeoutMs: drainTimeoutMs,
        waitTimeSeconds: options.receiveWaitSeconds ?? 20,
        logger: log,
      }));
      sources.push(source);
    }
    if (handlers.dispatcher) {
      scheduler = startScheduler({
        handler: handlers.dispatcher as ScheduleHandler,
        functionName: 'dispatcher',
        region,
        intervalMs: options.scheduleIntervalMs ?? 60_000,
        scheduleName: 'x-channel-dispatch',
        logger: log,
      });
    }
    if (simX && handlers.webhook) {
      // the real-time watch (outages → replay) runs in the webhook function on its own schedule; its
      // first tick at start sees how long the runtime was down (core/realtime/watch.ts)
      watchScheduler = startScheduler({
        handler: handlers.webhook as ScheduleHandler,
        functionName: 'webhook',
        region,
        intervalMs: options.scheduleIntervalMs ?? 60_000,
        scheduleName: 'x-channel-realtime-watch',
        runImmediately: true,
        logger: log,
      });
    }

    if (handlers.api) {
      // the api function's retry of pending revocations (core/revocations.ts), as its schedule does in AWS
      // (there every 5 minutes; each record is backed off on its own, so a tick a minute only looks sooner)
      revocationScheduler = startScheduler({
        handler: handlers.api as ScheduleHandler,
        functionName: 'api',
        region,
        intervalMs: options.scheduleIntervalMs ?? 60_000,
        scheduleName: 'x-channel-revocation-retry',
        timeoutMs: HANDLERS.api.timeoutSeconds * 1000,
        logger: log,
      });
    }

    const localJson: LocalJson = {
      adminUrl: `${apiUrl}/`,
      // A one-time link, never the admin token (console-sign-in.ts).
      adminLoginUrl: signIn.newLink(apiUrl).url,
      apiUrl,
      adminToken: state.adminToken,
      region,
      endpoints,
      queues: { inbound: queues.inbound.url, outbound: queues.outbound.url, results: queues.results.url },
      buckets: { media: LOCAL_MEDIA_BUCKET },
      credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
      x: {
        mode: options.realX ? 'real' : 'simulated',
        baseUrl: xBaseUrl,
        controlUrl: options.realX ? null : xBaseUrl,
      },
    };
    const localJsonPath = writeLocalJson(dataDir, localJson);
    startupMs.total = Date.now() - t0;

    let stopping: Promise<void> | undefined;
    return {
      localJson,
      localJsonPath,
      failed: loaded.failed,
      simulatedX: Boolean(simX),
      ...(sim.reason ? { simulatedXProblem: sim.reason } : {}),
      queues,
      tableName,
      startupMs,
      newSignInLink: () => signIn.newLink(apiUrl),
      alertEvents: () => eventBridge.events(),
      status: () => ({
        consumers: Object.fromEntries(
          Object.entries(sourceByFunction).map(([fn, source]) => [fn, source.stats()]),
        ) as Partial<Record<FunctionName, EventSourceStats>>,
        dispatcherTicks: scheduler?.ticks() ?? 0,
        revocationTicks: revocationScheduler?.ticks() ?? 0,
      }),
      stop() {
        // Order: scheduler and consumers first (no new work), then the HTTP host, then the servers
        // in reverse start order (SQS and the simulated X save their state while stopping).
        stopping ??= runStops(
          log,
          [...stops].sort((a, b) => stopRank(a[0]) - stopRank(b[0])),
        ).then(() => secureDataDir(dataDir));
        return stopping;
      },
    };
  } catch (e) {
    await runStops(
      log,
      [...stops].sort((a, b) => stopRank(a[0]) - stopRank(b[0])),
    );
    throw e;
  }
}

const STOP_ORDER = [
  'scheduler',
  'event sources',
  'http',
  'simulated X',
  'clients',
  'sqs',
  'secrets',
  's3',
  'eventbridge',
  'dynamodb',
];
const stopRank = (name: string) => STOP_ORDER.indexOf(name);
