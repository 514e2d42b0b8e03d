/**
 * One sign-in world per test file: the real AWS SDK clients against the stand-ins (DynamoDB Local,
 * Secrets Manager stand-in), the simulated X with a hand-moved clock, and the admin API handler as
 * deployed (middy + Powertools) built by the real `compose()`.
 */
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { createApp } from '../../../lambdas/api/app';
import { compose, type ApiDeps } from '../../../lambdas/api/compose';
import { loadConfig } from '../../../lambdas/api/config';
import { startSimX, type SimX } from '../../../sim/x/server';
import { startLocalAws, type LocalAws } from '../../helpers/local-aws';
import { API_ORIGIN, call, type ApiFn, type EventInput } from '../../unit/api/events';

export const CLIENT_ID = 'sign-in-client';
export const CLIENT_SECRET = `client-secret-${randomBytes(12).toString('hex')}`;

export interface World {
  aws: LocalAws;
  sim: SimX;
  deps: ApiDeps;
  handler: ApiFn;
  /** Our clock (state TTL, token expiry); the simulator's moves with it via `advance`. */
  advance(ms: number): void;
  api(input: EventInput): ReturnType<typeof call>;
  prefix: string;
  stop(): Promise<void>;
}

export async function startWorld(
  env: Record<string, string> | ((aws: LocalAws) => Promise<Record<string, string>>) = {},
): Promise<World> {
  const aws = await startLocalAws();
  const extraEnv = typeof env === 'function' ? await env(aws) : env;
  let now = Date.UTC(2026, 8, 1, 12, 0, 0);
  const sim = await startSimX({ clock: { now: () => now } });
  sim.registerApp({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    name: 'Acme Support',
    redirectUris: [`${API_ORIGIN}/oauth/callback`],
  });
  const appSecretId = `x-channel/app-${randomBytes(4).toString('hex')}`;
  await aws.clients.secrets.send(
    new CreateSecretCommand({
      Name: appSecretId,
      SecretString: JSON.stringify({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }),
    }),
  );
  const prefix = `x-channel/tokens-${randomBytes(4).toString('hex')}/`;
  const config = loadConfig({
    AWS_REGION: aws.region,
    TABLE_NAME: aws.tableName,
    XC_DYNAMODB_ENDPOINT: aws.endpoints.dynamodb,
    XC_SECRETS_ENDPOINT: aws.endpoints.secretsManager,
    XC_SQS_ENDPOINT: aws.endpoints.sqs,
    X_API_BASE_URL: sim.url,
    X_AUTHORIZE_URL: `${sim.url}/i/oauth2/authorize`,
    X_APP_SECRET_ID: appSecretId,
    TOKEN_SECRET_PREFIX: prefix,
    LOG_LEVEL: 'ERROR',
    ...extraEnv,
  });
  const deps = compose(config, { clients: aws.clients, clock: { now: () => new Date(now) } });
  const handler: ApiFn = createApp(deps);
  return {
    aws,
    sim,
    deps,
    handler,
    prefix,
    advance(ms) {
      now += ms;
    },
    api: (input) => call(handler, input),
    async stop() {
      await sim.stop();
      await aws.stop();
    },
  };
}

/** Every item of the table (to prove "nothing written" and "no token in DynamoDB"). */
export async function scanTable(w: World): Promise<Record<string, unknown>[]> {
  const res = await w.aws.clients.doc.send(
    new ScanCommand({ TableName: w.aws.tableName, ConsistentRead: true }),
  );
  return res.Items ?? [];
}

/** Items other than OAuth states and leases, canonicalised for before/after comparisons. */
export async function durableItems(w: World): Promise<string> {
  const items = await scanTable(w);
  return JSON.stringify(
    items
      .filter((i) => !String(i.pk).startsWith('STATE#') && !String(i.sk).startsWith('LEASE#'))
      .sort((a, b) => `${a.pk}${a.sk}`.localeCompare(`${b.pk}${b.sk}`)),
  );
}

export async function createChannel(
  w: World,
  body: object = { listenMentions: true, listenDms: true, autoFollow: false },
) {
  const res = await w.api({ method: 'POST', path: '/channels', body });
  if (res.status !== 201) throw new Error(`create answered ${res.status}`);
  return res.body as { id: string };
}

/** POST authorize → the URL at the simulated X, the state and the binding cookie. */
export async function authorize(w: World, channelId: string, sub = 'admin-1') {
  const res = await w.api({ method: 'POST', path: `/channels/${channelId}/authorize`, sub });
  if (res.status !== 200) throw new Error(`authorize answered ${res.status}`);
  const url = new URL(res.body.authorizeUrl);
  return { url, state: url.searchParams.get('state')!, cookie: res.cookies[0].split(';')[0], body: res.body };
}

/** Submits the simulated X's authorize form like a browser; returns the callback query string. */
export async function consent(
  url: URL,
  username: string,
  decision: 'allow' | 'deny' = 'allow',
): Promise<string> {
  const page = await fetch(url);
  if (page.status !== 200) throw new Error(`authorize page answered ${page.status}: ${await page.text()}`);
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username, decision }).toString(),
    redirect: 'manual',
  });
  if (res.status !== 302) throw new Error(`authorize form answered ${res.status}`);
  const location = new URL(res.headers.get('location')!);
  if (`${location.origin}${location.pathname}` !== `${API_ORIGIN}/oauth/callback`)
    throw new Error('redirected elsewhere');
  return location.search.slice(1);
}

export function callback(w: World, query: string, cookies?: string[]) {
  return w.api({ method: 'GET', path: '/oauth/callback', query, sub: null, cookies });
}

/** The whole sign-in: authorize → consent at X → callback. */
export async function signIn(w: World, channelId: string, username: string) {
  const a = await authorize(w, channelId);
  const query = await consent(a.url, username);
  return { ...a, query, res: await callback(w, query, [a.cookie]) };
}
