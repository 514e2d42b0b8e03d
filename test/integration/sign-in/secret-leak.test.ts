/**
 * Runs the whole sign-in + refresh + delete flow with LOG_LEVEL=DEBUG and asserts that no token,
 * client secret, authorization code or PKCE verifier appears in the logs or in any API answer; then the
 * same for revocations kept while X is down and retried by the revocation schedule.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../../adapters/aws/table';
import { REVOCATION_BACKOFF } from '../../../core/revocations';
import { createRevocationRetryApp } from '../../../lambdas/api/revocation-retry';
import { createLambdaContext } from '../../../local/lambda-context';
import { buildScheduledEvent } from '../../../local/scheduler';
import {
  CLIENT_SECRET,
  authorize,
  callback,
  consent,
  createChannel,
  startWorld,
  type World,
} from './harness';

let w: World;
let out: string[] = [];
let spies: jest.SpyInstance[] = [];
beforeAll(async () => {
  w = await startWorld({ LOG_LEVEL: 'DEBUG' });
  // Both streams: warn and error logs (the refused refresh, the failed exchange) go to stderr.
  spies = [process.stdout, process.stderr].map((stream) =>
    jest.spyOn(stream, 'write').mockImplementation((chunk: any) => {
      out.push(String(chunk));
      return true;
    }),
  );
});
afterAll(async () => {
  for (const spy of spies) spy.mockRestore();
  await w.stop();
});

it('no token, client secret, code or verifier in logs or responses', async () => {
  out = [];
  const responses: string[] = [];
  const secrets: string[] = [CLIENT_SECRET];
  const user = w.sim.createUser({ username: 'leak_check', name: 'Leak' });

  const c = await createChannel(w);
  const a = await authorize(w, c.id);
  responses.push(JSON.stringify(a.body));
  const state = await w.aws.clients.doc.send(
    new GetCommand({ TableName: w.aws.tableName, Key: keys.oauthState(a.state) }),
  );
  secrets.push(state.Item!.codeVerifier);
  const query = await consent(a.url, 'leak_check');
  secrets.push(new URLSearchParams(query).get('code')!);
  const cb = await callback(w, query, [a.cookie]);
  expect(cb.status).toBe(200);
  responses.push(cb.text);
  const t1 = (await w.deps.vault.get(c.id))!;
  secrets.push(t1.accessToken, t1.refreshToken!);

  w.advance(7200_000);
  w.sim.advanceClock(7200_000);
  await w.deps.tokens.getValidAccessToken(c.id);
  const t2 = (await w.deps.vault.get(c.id))!;
  secrets.push(t2.accessToken, t2.refreshToken!);
  for (const [method, path] of [
    ['GET', `/channels/${c.id}`],
    ['GET', `/channels/${c.id}/health`],
    ['GET', '/channels'],
  ]) {
    responses.push((await w.api({ method, path })).text);
  }
  // a refused refresh (grant revoked at X) and a failed exchange exercise the error paths
  w.sim.revokeUserTokens(user.id);
  await expect(w.deps.tokens.getValidAccessToken(c.id, { forceRefresh: true })).rejects.toMatchObject({
    kind: 'needs_reauth',
  });
  responses.push((await callback(w, query, [a.cookie])).text);
  responses.push((await w.api({ method: 'DELETE', path: `/channels/${c.id}` })).text);

  const logs = out.join('');
  expect(logs).toContain('sign-in callback'); // the capture works and DEBUG logging ran
  for (const s of secrets) {
    expect(s.length).toBeGreaterThanOrEqual(8);
    expect(logs.includes(s)).toBe(false);
    for (const r of responses) expect(r.includes(s)).toBe(false);
  }
});

it('no token in logs or responses while revocations are pending and retried on the schedule (#19 item 2)', async () => {
  out = [];
  const responses: string[] = [];
  const secrets: string[] = [];
  w.sim.createUser({ username: 'leak_revoke', name: 'Leak' });
  const c = await createChannel(w);
  const signIn = async () => {
    const a = await authorize(w, c.id);
    const query = await consent(a.url, 'leak_revoke');
    const cb = await callback(w, query, [a.cookie]);
    expect(cb.status).toBe(200);
    responses.push(cb.text);
    const t = (await w.deps.vault.get(c.id))!;
    secrets.push(t.accessToken, t.refreshToken!);
  };
  await signIn();
  // X's revoke fails: a re-authorization keeps the replaced grant, a delete keeps the current one
  w.sim.setFault({ endpoint: 'POST /2/oauth2/revoke', kind: 'status', status: 503, sticky: true });
  await signIn();
  responses.push((await w.api({ method: 'DELETE', path: `/channels/${c.id}` })).text);
  responses.push((await w.api({ method: 'GET', path: '/channels' })).text);
  const tick = createRevocationRetryApp(w.deps) as unknown as (e: unknown, c: unknown) => Promise<unknown>;
  const context = () => createLambdaContext({ functionName: 'api', timeoutMs: 15_000, region: w.aws.region });
  const event = () => buildScheduledEvent('x-channel-revocation-retry', w.aws.region, new Date());
  w.advance(REVOCATION_BACKOFF.baseMs);
  const first = await tick(event(), context());
  expect(first).toMatchObject({ due: 2, deferred: 0 });
  responses.push(JSON.stringify(first));
  w.sim.clearFaults();
  w.advance(2 * REVOCATION_BACKOFF.baseMs);
  const done = (await tick(event(), context())) as { revoked: string[] };
  responses.push(JSON.stringify(done));
  expect(done.revoked).toHaveLength(2);

  const logs = out.join('');
  // the capture works: the paths above logged
  for (const line of ['revoke_previous_pending', 'revocation still pending', 'revocation retry tick'])
    expect(logs).toContain(line);
  for (const s of secrets) {
    expect(s.length).toBeGreaterThanOrEqual(8);
    expect(logs.includes(s)).toBe(false);
    for (const r of responses) expect(r.includes(s)).toBe(false);
  }
});
