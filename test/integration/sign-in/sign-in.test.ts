/**
 * Sign in with X end to end through the admin API handler as deployed, the real AWS SDK clients
 * against the stand-ins, and twitter-api-v2 against the simulated X.
 */
import { GetSecretValueCommand, DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createTokenProvider } from '../../../core/tokens';
import { createDynamoLeaseStore } from '../../../adapters/aws/dynamo-lease';
import { createXAppClient, createXUserClient } from '../../../adapters/x/client';
import { scopesFor } from '../../../core/channel';
import { keys } from '../../../adapters/aws/table';
import { fingerprintToken } from '../../../sim/x/server';
import { API_ORIGIN, call } from '../../unit/api/events';
import * as net from 'node:net';
import { createApp } from '../../../lambdas/api/app';
import { createXOAuth } from '../../../adapters/x/oauth';
import { createSecretsAppCredentials } from '../../../adapters/aws/secrets-app-credentials';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  authorize,
  callback,
  consent,
  createChannel,
  durableItems,
  scanTable,
  signIn,
  startWorld,
  type World,
} from './harness';

let w: World;
let appCredentials: ReturnType<typeof createSecretsAppCredentials>;
beforeAll(async () => {
  w = await startWorld();
  appCredentials = createSecretsAppCredentials({
    client: w.aws.clients.secrets,
    secretId: w.deps.config.X_APP_SECRET_ID,
  });
});

/** An origin nothing listens on: X unreachable (connection refused), through the real client. */
async function closedOrigin(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return `http://127.0.0.1:${port}`;
}
afterAll(() => w.stop());

describe('Sign in with X through the simulated X', () => {
  it('create → authorize → consent → callback: channel active with the account, tokens only in Secrets Manager', async () => {
    const user = w.sim.createUser({ username: 'acme_help', name: 'Acme Help' });
    const c = await createChannel(w);
    const a = await authorize(w, c.id);
    expect(a.url.origin).toBe(w.sim.url);
    expect(a.url.searchParams.get('scope')!.split(' ')).toEqual(
      scopesFor({ listenMentions: true, listenDms: true, autoFollow: false }),
    );
    expect(a.url.searchParams.get('code_challenge_method')).toBe('S256');
    const query = await consent(a.url, 'acme_help');
    const res = await callback(w, query, [a.cookie]);
    expect(res.status).toBe(200);
    expect(res.text).toContain('Connected @acme_help. You can close this tab.');
    expect(res.text).toContain(JSON.stringify(API_ORIGIN));
    expect(res.text).toContain('new BroadcastChannel("x-channel-oauth")');

    const got = await w.api({ method: 'GET', path: `/channels/${c.id}` });
    expect(got.body).toMatchObject({
      status: 'active',
      statusReason: null,
      account: { id: user.id, username: 'acme_help', name: 'Acme Help' },
    });
    expect(got.body.connectedAt).toEqual(expect.any(String));
    expect(got.body.needsReauthorization).toEqual([]);

    const secret = await w.aws.clients.secrets.send(
      new GetSecretValueCommand({ SecretId: `${w.prefix}${c.id}` }),
    );
    const tokens = JSON.parse(secret.SecretString!);
    expect(Object.keys(tokens).sort()).toEqual([
      'accessToken',
      'expiresAt',
      'refreshToken',
      'scopes',
      'updatedAt',
    ]);
    const table = JSON.stringify(await scanTable(w));
    expect(table).not.toContain(tokens.accessToken);
    expect(table).not.toContain(tokens.refreshToken);
    expect(JSON.stringify(got.body)).not.toContain(tokens.accessToken);
    // the access token works at X
    const me = await createXUserClient({ apiBaseUrl: w.sim.url, accessToken: tokens.accessToken }).v2.me();
    expect(me.data.id).toBe(user.id);
  });

  it('expiry → refresh rotates once; the old refresh token is refused by X and never presented again by us', async () => {
    w.sim.createUser({ username: 'rotate_me', name: 'Rotate' });
    const c = await createChannel(w);
    expect((await signIn(w, c.id, 'rotate_me')).res.status).toBe(200);
    const before = (await w.deps.vault.get(c.id))!;
    const logStart = w.sim.tokenLog().length;

    w.advance(7200_000);
    w.sim.advanceClock(7200_000);
    const fresh = await w.deps.tokens.getValidAccessToken(c.id);
    expect(fresh).not.toBe(before.accessToken);
    const after = (await w.deps.vault.get(c.id))!;
    expect(after.accessToken).toBe(fresh);
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(
      (await createXUserClient({ apiBaseUrl: w.sim.url, accessToken: fresh }).v2.me()).data.username,
    ).toBe('rotate_me');

    // a valid token is served from the vault: no second refresh
    await w.deps.tokens.getValidAccessToken(c.id);
    const ours = w.sim.tokenLog().slice(logStart);
    expect(ours).toHaveLength(1);
    expect(ours[0]).toMatchObject({
      fingerprint: fingerprintToken(before.refreshToken!),
      accepted: true,
      alreadySpent: false,
    });

    // X refuses the spent token (presented here by the test, not by our code)
    const app = createXAppClient({ apiBaseUrl: w.sim.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    await expect(app.refreshOAuth2Token(before.refreshToken!)).rejects.toMatchObject({ code: 400 });
    const all = w.sim.tokenLog().slice(logStart);
    expect(
      all.filter((e) => e.fingerprint === fingerprintToken(before.refreshToken!) && e.accepted),
    ).toHaveLength(1);
  });

  it('20 concurrent getValidAccessToken (separate providers, like separate pollers) → exactly one refresh at X', async () => {
    w.sim.createUser({ username: 'busy_acct', name: 'Busy' });
    const c = await createChannel(w);
    await signIn(w, c.id, 'busy_acct');
    const before = (await w.deps.vault.get(c.id))!;
    w.advance(7200_000);
    w.sim.advanceClock(7200_000);
    const logStart = w.sim.tokenLog().length;
    const clock = w.deps.clock;
    const providers = Array.from({ length: 20 }, () =>
      createTokenProvider({
        vault: w.deps.vault,
        leases: createDynamoLeaseStore({ client: w.aws.clients.doc, tableName: w.aws.tableName, clock }),
        oauth: w.deps.oauth,
        channels: w.deps.channels,
        clock,
        waitMs: 20,
        maxWaits: 200,
      }),
    );
    const tokens = await Promise.all(providers.map((p) => p.getValidAccessToken(c.id)));
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).not.toBe(before.accessToken);
    const presented = w.sim.tokenLog().slice(logStart);
    expect(presented).toHaveLength(1);
    expect(presented[0].accepted).toBe(true);
  });

  it('a revoked grant → needs_reauth with a reason; signing in again restores active and keeps connectedAt and checkpoints', async () => {
    const user = w.sim.createUser({ username: 'revoked_1', name: 'Revoked' });
    const c = await createChannel(w);
    await signIn(w, c.id, 'revoked_1');
    const first = (await w.api({ method: 'GET', path: `/channels/${c.id}` })).body;
    // the poller moved a checkpoint meanwhile
    await w.aws.clients.doc.send(
      new UpdateCommand({
        TableName: w.aws.tableName,
        Key: keys.channel(c.id),
        UpdateExpression: 'SET checkpoints.mentionsSinceId = :m',
        ExpressionAttributeValues: { ':m': '1234' },
      }),
    );
    w.sim.revokeUserTokens(user.id);
    await expect(w.deps.tokens.getValidAccessToken(c.id, { forceRefresh: true })).rejects.toMatchObject({
      kind: 'needs_reauth',
    });
    const health = await w.api({ method: 'GET', path: `/channels/${c.id}/health` });
    expect(health.body.status).toBe('needs_reauth');
    expect(health.body.statusReason).toMatch(/refresh token/);
    expect(JSON.stringify(health.body)).not.toMatch(/access|refreshToken/i);

    w.advance(60_000);
    expect((await signIn(w, c.id, 'revoked_1')).res.status).toBe(200);
    const again = (await w.api({ method: 'GET', path: `/channels/${c.id}` })).body;
    expect(again).toMatchObject({ status: 'active', statusReason: null, connectedAt: first.connectedAt });
    expect(again.checkpoints.mentionsSinceId).toBe('1234');
  });

  it('re-authorizing revokes the replaced grant at X and leaves no readable AWSPREVIOUS (#19 item 2)', async () => {
    // Prepare: a connected channel
    w.sim.createUser({ username: 'reauth_me', name: 'Reauth' });
    const c = await createChannel(w);
    expect((await signIn(w, c.id, 'reauth_me')).res.status).toBe(200);
    const old = (await w.deps.vault.get(c.id))!;
    // Act: the admin signs in again
    w.advance(60_000);
    expect((await signIn(w, c.id, 'reauth_me')).res.status).toBe(200);
    // Assess: the new pair works, the old one is dead at X
    const fresh = (await w.deps.vault.get(c.id))!;
    expect(fresh.refreshToken).not.toBe(old.refreshToken);
    expect(
      (await createXUserClient({ apiBaseUrl: w.sim.url, accessToken: fresh.accessToken }).v2.me()).data
        .username,
    ).toBe('reauth_me');
    await expect(
      createXUserClient({ apiBaseUrl: w.sim.url, accessToken: old.accessToken }).v2.me(),
    ).rejects.toMatchObject({ code: 401 });
    const app = createXAppClient({ apiBaseUrl: w.sim.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    await expect(app.refreshOAuth2Token(old.refreshToken!)).rejects.toMatchObject({ code: 400 });
    // ... and the secret holds one labelled version: no AWSPREVIOUS to read the old pair by
    const secretId = `${w.prefix}${c.id}`;
    const described = await w.aws.clients.secrets.send(new DescribeSecretCommand({ SecretId: secretId }));
    expect(Object.values(described.VersionIdsToStages!)).toEqual([['AWSCURRENT']]);
    await expect(
      w.aws.clients.secrets.send(
        new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSPREVIOUS' }),
      ),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    // a refresh (another write) keeps it that way
    w.advance(7200_000);
    w.sim.advanceClock(7200_000);
    await w.deps.tokens.getValidAccessToken(c.id);
    const afterRefresh = await w.aws.clients.secrets.send(new DescribeSecretCommand({ SecretId: secretId }));
    expect(Object.values(afterRefresh.VersionIdsToStages!)).toEqual([['AWSCURRENT']]);
  });

  it('an account connected to another channel → 409 page, tokens revoked at X, nothing stored', async () => {
    w.sim.createUser({ username: 'taken_acct', name: 'Taken' });
    const c1 = await createChannel(w);
    await signIn(w, c1.id, 'taken_acct');
    const c2 = await createChannel(w);
    const grantsBefore = w.sim.signedInUsers().filter((u) => u.username === 'taken_acct').length;
    const before = await durableItems(w);
    const { res } = await signIn(w, c2.id, 'taken_acct');
    expect(res.status).toBe(409);
    expect(res.text).toContain(`already connected to channel ${c1.id}`);
    expect(res.text).toContain('"error":"account_in_use"');
    expect(await durableItems(w)).toBe(before);
    await expect(
      w.aws.clients.secrets.send(new DescribeSecretCommand({ SecretId: `${w.prefix}${c2.id}` })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    expect(w.sim.signedInUsers().filter((u) => u.username === 'taken_acct').length).toBe(grantsBefore);
  });

  it('cancel at X → 400 page "you cancelled", channel unchanged', async () => {
    w.sim.createUser({ username: 'canceller', name: 'C' });
    const c = await createChannel(w);
    const a = await authorize(w, c.id);
    const before = await durableItems(w);
    const query = await consent(a.url, 'canceller', 'deny');
    const res = await callback(w, query, [a.cookie]);
    expect(res.status).toBe(400);
    expect(res.text).toContain('You cancelled the sign-in at X');
    expect(res.text).toContain('"ok":false');
    expect(await durableItems(w)).toBe(before);
  });

  it('DELETE revokes at X, deletes the secret and releases the account; deleting twice → 404', async () => {
    w.sim.createUser({ username: 'deleted_acct', name: 'D' });
    const c = await createChannel(w);
    await signIn(w, c.id, 'deleted_acct');
    const tokens = (await w.deps.vault.get(c.id))!;
    const res = await w.api({ method: 'DELETE', path: `/channels/${c.id}` });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: c.id, deleted: true, revokedAtX: 'revoked' });
    expect(await w.deps.vault.get(c.id)).toBeNull();
    await expect(
      createXUserClient({ apiBaseUrl: w.sim.url, accessToken: tokens.accessToken }).v2.me(),
    ).rejects.toMatchObject({ code: 401 });
    expect((await w.api({ method: 'DELETE', path: `/channels/${c.id}` })).status).toBe(404);
    // the account can be connected to a new channel
    const c2 = await createChannel(w);
    expect((await signIn(w, c2.id, 'deleted_acct')).res.status).toBe(200);
  });

  it('DELETE while X is unreachable keeps the encrypted grant ("deleted, revocation pending"); DELETE again once X is back revokes it (#19 item 2)', async () => {
    // Prepare: a connected channel, and the API as deployed with X unreachable (a closed port)
    w.sim.createUser({ username: 'outage_del', name: 'Outage' });
    const c = await createChannel(w);
    await signIn(w, c.id, 'outage_del');
    const tokens = (await w.deps.vault.get(c.id))!;
    const down = createApp({
      ...w.deps,
      oauth: createXOAuth({ apiBaseUrl: await closedOrigin(), credentials: appCredentials }),
    });

    // Act: delete during the outage
    const res = await call(down, { method: 'DELETE', path: `/channels/${c.id}` });

    // Assess: channel gone, grant kept and listed as pending, still valid at X (nothing revoked it)
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: c.id, deleted: true, revokedAtX: 'pending' });
    expect(typeof res.body.revokeError).toBe('string');
    expect((await w.api({ method: 'GET', path: `/channels/${c.id}` })).status).toBe(404);
    expect((await w.deps.vault.get(c.id))!.refreshToken).toBe(tokens.refreshToken);
    const listed = (await w.api({ method: 'GET', path: '/channels' })).body.pendingRevocations;
    expect(listed).toEqual([
      expect.objectContaining({
        channelId: c.id,
        attempts: 1,
        account: expect.objectContaining({ username: 'outage_del' }),
      }),
    ]);
    expect(JSON.stringify(listed)).not.toContain(tokens.accessToken);
    // still down: the retry counts another attempt
    const again = await call(down, { method: 'DELETE', path: `/channels/${c.id}` });
    expect(again.body).toMatchObject({ revokedAtX: 'pending', attempts: 2 });

    // X is back: the retry revokes at X and deletes the grant and the record
    const back = await w.api({ method: 'DELETE', path: `/channels/${c.id}` });
    expect(back.body).toEqual({ id: c.id, deleted: true, revokedAtX: 'revoked' });
    expect(await w.deps.vault.get(c.id)).toBeNull();
    await expect(
      createXUserClient({ apiBaseUrl: w.sim.url, accessToken: tokens.accessToken }).v2.me(),
    ).rejects.toMatchObject({ code: 401 });
    const app = createXAppClient({ apiBaseUrl: w.sim.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    await expect(app.refreshOAuth2Token(tokens.refreshToken!)).rejects.toMatchObject({ code: 400 });
    expect((await w.api({ method: 'GET', path: '/channels' })).body.pendingRevocations).toEqual([]);
    expect((await w.api({ method: 'DELETE', path: `/channels/${c.id}` })).status).toBe(404);
  });

  it('an admin may discard a pending grant on purpose (DELETE ?discardGrant=true); a bad value is a 400 naming it', async () => {
    w.sim.createUser({ username: 'discard_me', name: 'Discard' });
    const c = await createChannel(w);
    await signIn(w, c.id, 'discard_me');
    const down = createApp({
      ...w.deps,
      oauth: createXOAuth({ apiBaseUrl: await closedOrigin(), credentials: appCredentials }),
    });
    expect((await call(down, { method: 'DELETE', path: `/channels/${c.id}` })).body.revokedAtX).toBe(
      'pending',
    );

    const bad = await w.api({ method: 'DELETE', path: `/channels/${c.id}`, query: 'discardGrant=yes' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field)).toEqual(['query.discardGrant']);

    const res = await w.api({ method: 'DELETE', path: `/channels/${c.id}`, query: 'discardGrant=true' });
    expect(res.body).toEqual({ id: c.id, deleted: true, revokedAtX: 'discarded' });
    expect(await w.deps.vault.get(c.id)).toBeNull();
    expect((await w.api({ method: 'GET', path: '/channels' })).body.pendingRevocations).toEqual([]);
  });

  it('GET /channels pages through DynamoDB with a cursor; a forged cursor is a 400 naming query.cursor', async () => {
    const first = await w.api({ method: 'GET', path: '/channels', query: 'limit=2' });
    expect(first.body.items).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await w.api({
      method: 'GET',
      path: '/channels',
      query: `limit=2&cursor=${first.body.nextCursor}`,
    });
    expect(second.body.items[0].id).not.toBe(first.body.items[0].id);
    const bad = await w.api({ method: 'GET', path: '/channels', query: 'cursor=zzz' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe('query.cursor');
  });

  it('a forged cursor of any shape is a 400 naming query.cursor, never a 500 or a restart', async () => {
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    await createChannel(w);
    await createChannel(w);
    const first = await w.api({ method: 'GET', path: '/channels', query: 'limit=1' });
    const real = JSON.parse(Buffer.from(first.body.nextCursor, 'base64url').toString('utf8'));
    const forged = {
      garbage: '%%%not-base64%%%',
      'base64 of junk JSON': b64({ hello: 'world' }),
      'base64 of a JSON array': b64(['pk', 'sk']),
      'base64 of a number': b64(42),
      'an OAuth state key': b64({ pk: 'STATE#abc', sk: 'STATE', gsi2pk: 'CHANNEL', gsi2sk: 'x#abc' }),
      'a lease key': b64({ ...real, sk: `LEASE#poll` }),
      'a channel key on the wrong partition': b64({ ...real, gsi2pk: 'OTHER' }),
      'a channel key missing its index attributes': b64({ pk: real.pk, sk: real.sk }),
      'a channel key with an extra attribute': b64({ ...real, extra: 'x' }),
      'a key whose index sort names another channel': b64({ ...real, gsi2sk: '2020-01-01#other' }),
      'a key with a non-string attribute': b64({ ...real, gsi2sk: 7 }),
    };
    for (const [what, cursor] of Object.entries(forged)) {
      const res = await w.api({
        method: 'GET',
        path: '/channels',
        query: `cursor=${encodeURIComponent(cursor)}`,
      });
      expect({ what, status: res.status, field: res.body.errors?.[0]?.field }).toEqual({
        what,
        status: 400,
        field: 'query.cursor',
      });
    }
    // the real cursor, re-encoded by hand, still continues the listing
    const again = await w.api({ method: 'GET', path: '/channels', query: `limit=1&cursor=${b64(real)}` });
    expect(again.status).toBe(200);
    expect(again.body.items[0].id).not.toBe(first.body.items[0].id);
  });

  it('a stale cursor (its channel since deleted) continues after it, not from the start', async () => {
    await createChannel(w);
    await createChannel(w);
    const first = await w.api({ method: 'GET', path: '/channels', query: 'limit=1' });
    const deletedId = first.body.items[0].id;
    expect((await w.api({ method: 'DELETE', path: `/channels/${deletedId}` })).status).toBe(200);
    const next = await w.api({
      method: 'GET',
      path: '/channels',
      query: `limit=1&cursor=${first.body.nextCursor}`,
    });
    expect(next.status).toBe(200);
    expect(next.body.items[0].id).not.toBe(deletedId);
  });
});

describe('OAuth attacks are refused with nothing written', () => {
  async function pending(username: string) {
    w.sim.createUser({ username, name: username });
    const c = await createChannel(w);
    const a = await authorize(w, c.id);
    const query = await consent(a.url, username);
    return { c, a, query };
  }

  it('state replay: the second use of a callback URL is refused', async () => {
    const { a, query, c } = await pending('replay_1');
    expect((await callback(w, query, [a.cookie])).status).toBe(200);
    const before = await durableItems(w);
    const again = await callback(w, query, [a.cookie]);
    expect(again.status).toBe(400);
    expect(again.text).toContain('"error":"unknown_state"');
    expect(await durableItems(w)).toBe(before);
    expect((await w.api({ method: 'GET', path: `/channels/${c.id}` })).body.status).toBe('active');
  });

  it('expired state (after 10 minutes) is refused', async () => {
    const { a, query } = await pending('expired_1');
    const before = await durableItems(w);
    w.advance(601_000);
    const res = await callback(w, query, [a.cookie]);
    expect(res.status).toBe(400);
    expect(res.text).toContain('"error":"expired_state"');
    expect(await durableItems(w)).toBe(before);
  });

  it('a state started by another admin / for another channel in another browser is refused', async () => {
    w.sim.createUser({ username: 'victim_1', name: 'Victim' });
    const mine = await createChannel(w);
    const mineAuth = await authorize(w, mine.id, 'admin-1');
    const theirs = await createChannel(w);
    const theirAuth = await authorize(w, theirs.id, 'admin-2');
    const query = await consent(theirAuth.url, 'victim_1');
    const before = await durableItems(w);
    const res = await callback(w, query, [mineAuth.cookie]);
    expect(res.status).toBe(400);
    expect(res.text).toContain('"error":"browser_mismatch"');
    const noCookie = await callback(w, (await consent(mineAuth.url, 'victim_1')).toString(), []);
    expect(noCookie.status).toBe(400);
    expect(await durableItems(w)).toBe(before);
  });

  it('a forwarded sign-in link cannot cancel the pending sign-in: no cookie or a wrong one leaves the state, then the admin connects', async () => {
    w.sim.createUser({ username: 'forwarded_1', name: 'Forwarded' });
    const c = await createChannel(w);
    const a = await authorize(w, c.id, 'admin-1');
    const other = await authorize(w, (await createChannel(w)).id, 'admin-2');
    const query = await consent(a.url, 'forwarded_1');
    const stateItem = async () =>
      (
        await w.aws.clients.doc.send(
          new GetCommand({ TableName: w.aws.tableName, Key: keys.oauthState(a.state) }),
        )
      ).Item;
    const stored = await stateItem();
    expect(stored).toMatchObject({ state: a.state, channelId: c.id });
    const before = await durableItems(w);

    const noCookie = await callback(w, query, []);
    expect(noCookie.status).toBe(400);
    expect(noCookie.text).toContain('"error":"browser_mismatch"');
    const wrongCookie = await callback(w, query, [
      `${a.cookie.split('=')[0]}=${other.cookie.split('=').slice(1).join('=')}`,
    ]);
    expect(wrongCookie.status).toBe(400);
    expect(wrongCookie.text).toContain('"error":"browser_mismatch"');
    expect(await stateItem()).toEqual(stored);
    expect(await durableItems(w)).toBe(before);
    expect((await w.api({ method: 'GET', path: `/channels/${c.id}` })).body.status).toBe('pending_auth');

    const mine = await callback(w, query, [a.cookie]);
    expect(mine.status).toBe(200);
    expect(mine.text).toContain('Connected @forwarded_1.');
    expect(await stateItem()).toBeUndefined();
    expect((await w.api({ method: 'GET', path: `/channels/${c.id}` })).body.status).toBe('active');
    // single use still holds for the right browser
    const replay = await callback(w, query, [a.cookie]);
    expect(replay.text).toContain('"error":"unknown_state"');
  });

  it('missing state, and both code and error, are refused', async () => {
    const { a, query } = await pending('both_1');
    const before = await durableItems(w);
    const code = new URLSearchParams(query).get('code')!;
    expect((await callback(w, `code=${code}`, [a.cookie])).status).toBe(400);
    const both = await callback(w, `${query}&error=access_denied`, [a.cookie]);
    expect(both.status).toBe(400);
    expect(both.text).toContain('"error":"invalid_request"');
    expect(await durableItems(w)).toBe(before);
  });

  it('a PKCE verifier mismatch is refused by X and nothing is written', async () => {
    const { a, query } = await pending('pkce_1');
    await w.aws.clients.doc.send(
      new UpdateCommand({
        TableName: w.aws.tableName,
        Key: keys.oauthState(a.state),
        UpdateExpression: 'SET codeVerifier = :v',
        ExpressionAttributeValues: { ':v': 'x'.repeat(43) },
      }),
    );
    const before = await durableItems(w);
    const res = await callback(w, query, [a.cookie]);
    expect(res.status).toBe(400);
    expect(res.text).toContain('"error":"exchange_failed"');
    expect(await durableItems(w)).toBe(before);
  });
});
