/**
 * The scheduled retry of pending revocations (issue 19 item 2; core/revocations.ts), end to end: the
 * admin API handler as deployed, its revocation tick as the schedule invokes it (an EventBridge
 * scheduled event and a Lambda context), the real AWS SDK clients against DynamoDB Local and the Secrets
 * Manager stand-in, and twitter-api-v2 against the simulated X, whose revoke endpoint is made to fail
 * with its own fault control. Revocation is checked in the simulated X's own token records.
 */
import { DescribeSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { createXUserClient } from '../../../adapters/x/client';
import { REVOCATION_BACKOFF, type RetryReport } from '../../../core/revocations';
import { ATTEMPT_BUDGET_MS, createRevocationRetryApp } from '../../../lambdas/api/revocation-retry';
import { createLambdaContext } from '../../../local/lambda-context';
import { buildScheduledEvent } from '../../../local/scheduler';
import { createChannel, scanTable, signIn, startWorld, type World } from './harness';

let w: World;
let tick: (event: unknown, context: Context) => Promise<RetryReport>;
beforeAll(async () => {
  w = await startWorld();
  tick = createRevocationRetryApp(w.deps) as never;
});
afterAll(() => w.stop());
afterEach(() => w.sim.clearFaults());

const REVOKE = 'POST /2/oauth2/revoke';
/** X's revoke endpoint answers 503 until the faults are cleared. */
const xRevokeDown = () => w.sim.setFault({ endpoint: REVOKE, kind: 'status', status: 503, sticky: true });
const revokeCalls = () => w.sim.requests()[REVOKE] ?? 0;

/** One tick as EventBridge Scheduler invokes the api function (its 15 s timeout). */
const runTick = () =>
  tick(
    buildScheduledEvent('x-channel-revocation-retry', w.aws.region, new Date()),
    createLambdaContext({ functionName: 'api', timeoutMs: 15_000, region: w.aws.region }),
  );

/** The simulated X's own record: is the grant behind this refresh token revoked, and this access token? */
function atX(tokens: { accessToken: string; refreshToken: string | null }) {
  const state = w.sim.state;
  const refresh = state.refreshTokens[tokens.refreshToken!];
  const grant = state.grants.find((g) => g.id === refresh?.grantId);
  return { grantRevoked: grant?.revoked, accessRevoked: state.accessTokens[tokens.accessToken]?.revoked };
}

const secretExists = (name: string) =>
  w.aws.clients.secrets.send(new DescribeSecretCommand({ SecretId: name })).then(
    () => true,
    (e: Error) => {
      if (e.name === 'ResourceNotFoundException') return false;
      throw e;
    },
  );

const pendingListed = async () =>
  (await w.api({ method: 'GET', path: '/channels' })).body.pendingRevocations as Array<{
    channelId: string;
    attempts: number;
    lastError: string;
    nextAttemptAt: string;
  }>;

describe('scheduled retry of pending revocations', () => {
  it('delete while X cannot revoke → pending; the ticks back off while X is down; once X is back a tick revokes at X and deletes the grant', async () => {
    // Prepare: a connected channel; X's revoke endpoint fails
    w.sim.createUser({ username: 'sched_del', name: 'Sched' });
    const c = await createChannel(w);
    expect((await signIn(w, c.id, 'sched_del')).res.status).toBe(200);
    const tokens = (await w.deps.vault.get(c.id))!;
    xRevokeDown();

    // Act: the admin deletes the channel
    const res = await w.api({ method: 'DELETE', path: `/channels/${c.id}` });

    // Assess: pending, grant kept, still valid at X, listed with its next attempt in 5 minutes
    expect(res.body).toMatchObject({
      id: c.id,
      deleted: true,
      revokedAtX: 'pending',
      revokeError: 'x_unavailable',
    });
    expect(atX(tokens)).toEqual({ grantRevoked: false, accessRevoked: false });
    expect(await secretExists(`${w.prefix}${c.id}`)).toBe(true);
    const [listed] = (await pendingListed()).filter((p) => p.channelId === c.id);
    expect(listed).toMatchObject({ attempts: 1, lastError: 'x_unavailable' });
    const deletedAt = Date.parse(w.deps.clock.now().toISOString());
    expect(Date.parse(listed.nextAttemptAt) - deletedAt).toBe(REVOCATION_BACKOFF.baseMs);

    // A tick before it is due asks X nothing
    let calls = revokeCalls();
    expect((await runTick()).due).toBe(0);
    expect(revokeCalls()).toBe(calls);

    // Due, X still down: one attempt, counted, next one 10 minutes later (doubled)
    w.advance(REVOCATION_BACKOFF.baseMs);
    const failed = await runTick();
    expect(failed.failed).toEqual([{ id: c.id, code: 'x_unavailable', attempts: 2 }]);
    expect(revokeCalls()).toBe(calls + 1);
    const [again] = (await pendingListed()).filter((p) => p.channelId === c.id);
    expect(again.attempts).toBe(2);
    expect(Date.parse(again.nextAttemptAt) - w.deps.clock.now().getTime()).toBe(
      2 * REVOCATION_BACKOFF.baseMs,
    );
    calls = revokeCalls();
    w.advance(REVOCATION_BACKOFF.baseMs);
    expect((await runTick()).due).toBe(0);
    expect(revokeCalls()).toBe(calls);

    // X is back; the next due tick revokes it
    w.sim.clearFaults();
    w.advance(REVOCATION_BACKOFF.baseMs);
    const done = await runTick();

    // Assess: revoked in the simulated X's records, the grant gone from Secrets Manager, no longer pending
    expect(done.revoked).toEqual([c.id]);
    expect(atX(tokens)).toEqual({ grantRevoked: true, accessRevoked: true });
    await expect(
      createXUserClient({ apiBaseUrl: w.sim.url, accessToken: tokens.accessToken }).v2.me(),
    ).rejects.toMatchObject({ code: 401 });
    expect(await secretExists(`${w.prefix}${c.id}`)).toBe(false);
    expect((await pendingListed()).map((p) => p.channelId)).not.toContain(c.id);
    expect((await w.api({ method: 'DELETE', path: `/channels/${c.id}` })).status).toBe(404);
    expect((await runTick()).pending).toBe(0);
  });

  it('re-auth while X cannot revoke keeps the replaced grant only in Secrets Manager; a tick revokes it and the new grant keeps working', async () => {
    // Prepare: a connected channel
    w.sim.createUser({ username: 'sched_reauth', name: 'Reauth' });
    const c = await createChannel(w);
    expect((await signIn(w, c.id, 'sched_reauth')).res.status).toBe(200);
    const old = (await w.deps.vault.get(c.id))!;

    // Act: the admin signs in again while X's revoke endpoint fails
    xRevokeDown();
    w.advance(60_000);
    const reauth = await signIn(w, c.id, 'sched_reauth');

    // Assess: the new grant is stored and the channel active; the old one is still valid at X, kept in a
    // secret of its own (never in the table), and not listed as a deleted channel
    expect(reauth.res.status).toBe(200);
    const fresh = (await w.deps.vault.get(c.id))!;
    expect(fresh.refreshToken).not.toBe(old.refreshToken);
    expect((await w.api({ method: 'GET', path: `/channels/${c.id}` })).body.status).toBe('active');
    expect(atX(old)).toEqual({ grantRevoked: false, accessRevoked: false });
    const items = await scanTable(w);
    const record = items.find((i) => i.pk === 'REVOCATION' && i.channelId === c.id);
    expect(record).toMatchObject({ kind: 'replaced', attempts: 1, lastError: 'x_unavailable' });
    const id = String(record!.sk);
    expect(id).toMatch(new RegExp(`^${c.id}\\.replaced\\.\\d+$`));
    const tableText = JSON.stringify(items);
    for (const t of [old.accessToken, old.refreshToken!, fresh.accessToken, fresh.refreshToken!])
      expect(tableText).not.toContain(t);
    const kept = await w.aws.clients.secrets.send(
      new GetSecretValueCommand({ SecretId: `${w.prefix}${id}` }),
    );
    expect(JSON.parse(kept.SecretString!)).toMatchObject({
      accessToken: old.accessToken,
      refreshToken: old.refreshToken,
    });
    expect((await pendingListed()).map((p) => p.channelId)).not.toContain(c.id);

    // Act: X is back; the tick once the record is due
    w.sim.clearFaults();
    w.advance(REVOCATION_BACKOFF.baseMs);
    const done = await runTick();

    // Assess: the old grant revoked at X, its secret and record gone, the new grant untouched
    expect(done.revoked).toEqual([id]);
    expect(atX(old)).toEqual({ grantRevoked: true, accessRevoked: true });
    expect(atX(fresh)).toEqual({ grantRevoked: false, accessRevoked: false });
    expect(
      (await createXUserClient({ apiBaseUrl: w.sim.url, accessToken: fresh.accessToken }).v2.me()).data
        .username,
    ).toBe('sched_reauth');
    expect(await secretExists(`${w.prefix}${id}`)).toBe(false);
    expect(await secretExists(`${w.prefix}${c.id}`)).toBe(true);
    expect((await scanTable(w)).some((i) => i.pk === 'REVOCATION')).toBe(false);
  });

  it('a tick after an admin discarded the grant finds nothing; a record raced away is not written back', async () => {
    w.sim.createUser({ username: 'sched_race', name: 'Race' });
    const c = await createChannel(w);
    await signIn(w, c.id, 'sched_race');
    xRevokeDown();
    expect((await w.api({ method: 'DELETE', path: `/channels/${c.id}` })).body.revokedAtX).toBe('pending');
    const pending = (await w.deps.revocations!.get(c.id))!;
    // the admin discards while a tick holds the record it read before
    await w.api({ method: 'DELETE', path: `/channels/${c.id}`, query: 'discardGrant=true' });
    expect(await w.deps.revocations!.recordAttempt({ ...pending, attempts: 2 })).toBe(false);
    expect(await w.deps.revocations!.get(c.id)).toBeNull();
    w.advance(REVOCATION_BACKOFF.capMs);
    expect(await runTick()).toMatchObject({ pending: 0, due: 0 });
  });

  it('one tick of the 15 s api function revokes every due one when X answers; with little time left it tries one and leaves the rest due', async () => {
    const ids: string[] = [];
    xRevokeDown();
    for (const n of [1, 2, 3, 4]) {
      w.sim.createUser({ username: `sched_many_${n}`, name: 'Many' });
      const c = await createChannel(w);
      await signIn(w, c.id, `sched_many_${n}`);
      expect((await w.api({ method: 'DELETE', path: `/channels/${c.id}` })).body.revokedAtX).toBe('pending');
      ids.push(c.id);
    }
    w.sim.clearFaults();
    w.advance(REVOCATION_BACKOFF.baseMs);
    // a context with less than one attempt's room left (the first attempt still runs)
    const short = await tick(
      buildScheduledEvent('x-channel-revocation-retry', w.aws.region, new Date()),
      createLambdaContext({
        functionName: 'api',
        timeoutMs: ATTEMPT_BUDGET_MS - 1_000,
        region: w.aws.region,
      }),
    );
    expect(short).toMatchObject({ due: 4, deferred: 3 });
    expect(short.revoked).toHaveLength(1);
    const full = await runTick();
    expect(full).toMatchObject({ due: 3, failed: [], deferred: 0 });
    expect([...short.revoked, ...full.revoked].sort()).toEqual([...ids].sort());
    for (const id of ids) expect(await secretExists(`${w.prefix}${id}`)).toBe(false);
  });
});
