/**
 * Each fault kind as the real client sees it, and how `mapXError` classifies it (STYLE.md §5, §9).
 */
import { ApiPartialResponseError, ApiRequestError, ApiResponseError } from 'twitter-api-v2';
import { mapXError, mayHaveApplied } from '../../../adapters/x/errors';
import type { SimX } from '../../../sim/x/server';
import { appClient, control, signIn, startTestSim, userClient } from './helpers';
import { wireViolations } from './helpers';

const MENTIONS = 'GET /2/users/:id/mentions';

describe('sim-x faults', () => {
  let sim: SimX;
  let accountId: string;
  let token: string;
  beforeEach(async () => {
    sim = await startTestSim();
    accountId = sim.createUser({ username: 'acme_help', name: 'Acme Help' }).id;
    sim.createUser({ username: 'lucia', name: 'Lucía' });
    token = (await signIn(sim, 'acme_help')).accessToken;
  });
  afterEach(async () => {
    await sim.stop();
    expect(wireViolations(sim)).toEqual([]);
  });

  const read = (timeoutMs?: number) => userClient(sim, token, timeoutMs).v2.userMentionTimeline(accountId);
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => {
        throw new Error('expected a failure');
      },
      (e: unknown) => e,
    );

  it.each([500, 503])('status %i is an ApiResponseError, retryable', async (status) => {
    sim.setFault({ endpoint: MENTIONS, kind: 'status', status });
    const e = await failure(read());
    expect(e).toBeInstanceOf(ApiResponseError);
    expect((e as ApiResponseError).code).toBe(status);
    expect(mapXError(e, 'read')).toMatchObject({ kind: 'retryable', code: 'x_unavailable' });
    // count 1 by default: the next call succeeds
    await expect(read()).resolves.toBeDefined();
  });

  it('429 with a chosen reset is a rate-limit error carrying that reset', async () => {
    sim.setFault({ endpoint: MENTIONS, kind: 'status', status: 429, resetSeconds: 120 });
    const e = (await failure(read())) as ApiResponseError;
    expect(e.rateLimitError).toBe(true);
    const reset = Math.ceil(sim.now() / 1000) + 120;
    expect(e.rateLimit?.reset).toBe(reset);
    expect(mapXError(e, 'read').notBefore?.getTime()).toBe(reset * 1000);
    expect(sim.rateLimitLog().at(-1)).toMatchObject({ status: 429, reset });
  });

  it('a 429 with hold keeps its window: later calls inside it get 429 with the same reset, none after it', async () => {
    sim.setFault({ endpoint: MENTIONS, kind: 'status', status: 429, resetSeconds: 60, hold: true });
    const reset = Math.ceil(sim.now() / 1000) + 60;
    expect(((await failure(read())) as ApiResponseError).rateLimit?.reset).toBe(reset);
    sim.advanceClock(30_000);
    const again = (await failure(read())) as ApiResponseError;
    expect(again.code).toBe(429);
    expect(again.rateLimit?.reset).toBe(reset);
    // only the call that took it counts as a fired fault; the held answer is X's window
    expect(sim.firedFaults()).toHaveLength(1);
    expect(sim.rateLimitLog().filter((e) => e.status === 429)).toHaveLength(2);
    sim.advanceClock(31_000);
    await expect(read()).resolves.toBeDefined();
  });

  it('sticky faults last until cleared; faults can be set through the control API', async () => {
    const res = await control(sim, 'POST', '/_sim/faults', {
      endpoint: MENTIONS,
      kind: 'status',
      status: 503,
      sticky: true,
    });
    expect(res.status).toBe(201);
    await failure(read());
    await failure(read());
    sim.clearFaults();
    await expect(read()).resolves.toBeDefined();
  });

  it('latency delays but answers', async () => {
    sim.setFault({ endpoint: MENTIONS, kind: 'latency', latencyMs: 30 });
    await expect(read()).resolves.toMatchObject({ meta: { result_count: 0 } });
  });

  it('a timeout (never answered) is an ApiRequestError that may have applied', async () => {
    sim.setFault({ endpoint: 'POST /2/tweets', kind: 'timeout' });
    const e = await failure(userClient(sim, token, 150).v2.tweet('hello'));
    expect(e).toBeInstanceOf(ApiRequestError);
    const mapped = mapXError(e, 'post');
    expect(mapped).toMatchObject({ kind: 'retryable', code: 'x_unavailable' });
    expect(mayHaveApplied(mapped)).toBe(true);
  });

  it('a connection reset is an ApiRequestError', async () => {
    sim.setFault({ endpoint: MENTIONS, kind: 'reset' });
    const e = await failure(read());
    expect(e).toBeInstanceOf(ApiRequestError);
    expect(mapXError(e, 'read').kind).toBe('retryable');
  });

  it('a body cut mid-flight is a partial-response or request error, retryable', async () => {
    sim.setFault({ endpoint: MENTIONS, kind: 'malformed' });
    const e = await failure(read());
    expect(e instanceof ApiPartialResponseError || e instanceof ApiRequestError).toBe(true);
    expect(mapXError(e, 'read')).toMatchObject({ kind: 'retryable', code: 'x_unavailable' });
  });

  it('revoke makes the call (and every later one) a 401 needing re-auth', async () => {
    sim.setFault({ endpoint: MENTIONS, kind: 'revoke' });
    const e = (await failure(read())) as ApiResponseError;
    expect(e.code).toBe(401);
    expect(mapXError(e, 'read').kind).toBe('needs_reauth');
    expect(((await failure(userClient(sim, token).v2.me())) as ApiResponseError).code).toBe(401);
  });

  it('suspend makes calls 403 with a suspended message', async () => {
    sim.setFault({ endpoint: MENTIONS, kind: 'suspend' });
    const e = (await failure(read())) as ApiResponseError;
    expect(e.code).toBe(403);
    expect(mapXError(e, 'read')).toMatchObject({ kind: 'permanent', code: 'access_level' });
    expect(sim.state.users.find((u) => u.id === accountId)?.suspended).toBe(true);
  });

  it('a fault for another user does not fire', async () => {
    const other = sim.state.users.find((u) => u.username === 'lucia')?.id as string;
    sim.setFault({ endpoint: '*', kind: 'status', status: 500, userId: other });
    await expect(read()).resolves.toBeDefined();
  });

  it('rejects a bad fault naming the field', async () => {
    const res = await control(sim, 'POST', '/_sim/faults', { endpoint: MENTIONS, kind: 'status' });
    expect(res).toEqual({ status: 400, body: expect.objectContaining({ field: 'status' }) });
    const unknown = await control(sim, 'POST', '/_sim/faults', { endpoint: 'GET /nope', kind: 'reset' });
    expect(unknown.body.field).toBe('endpoint');
  });

  it('the OAuth revoke and token calls take only a fault that names them (`*` leaves them alone)', async () => {
    const { refreshToken } = await signIn(sim, 'lucia');
    sim.setFault({ endpoint: '*', kind: 'status', status: 503, sticky: true });
    const refreshed = await appClient(sim).refreshOAuth2Token(refreshToken!);
    sim.clearFaults();
    sim.setFault({ endpoint: 'POST /2/oauth2/revoke', kind: 'status', status: 503, count: 1 });
    const e = await failure(appClient(sim).revokeOAuth2Token(refreshed.refreshToken!, 'refresh_token'));
    expect(e).toBeInstanceOf(ApiResponseError);
    expect((e as ApiResponseError).code).toBe(503);
    expect(mapXError(e, 'revoke')).toMatchObject({ kind: 'retryable', code: 'x_unavailable' });
    expect(sim.firedFaults().at(-1)).toMatchObject({ endpoint: 'POST /2/oauth2/revoke' });
    // not revoked by the failed call; the next one (count 1 spent) revokes
    const grantOf = (t: string) => sim.state.grants.find((g) => g.id === sim.state.refreshTokens[t].grantId)!;
    expect(grantOf(refreshed.refreshToken!).revoked).toBe(false);
    await appClient(sim).revokeOAuth2Token(refreshed.refreshToken!, 'refresh_token');
    expect(grantOf(refreshed.refreshToken!).revoked).toBe(true);
  });
});
