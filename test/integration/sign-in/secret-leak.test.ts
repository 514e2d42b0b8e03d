/**
 * Runs the whole sign-in + refresh + delete flow with LOG_LEVEL=DEBUG and asserts that no token,
 * client secret, authorization code or PKCE verifier appears in the logs or in any API answer.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../../adapters/aws/table';
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
