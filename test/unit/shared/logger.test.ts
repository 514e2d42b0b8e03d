/** The logger never prints a token, client secret, Authorization header or code verifier. */
import { createLogger, registerSecretValue, redactSecrets } from '../../../lambdas/shared/logger';

function captureStdout(fn: () => void): string {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  const spyLog = jest
    .spyOn(console, 'log')
    .mockImplementation((...a: unknown[]) => void chunks.push(a.join(' ')));
  const spyInfo = jest
    .spyOn(console, 'info')
    .mockImplementation((...a: unknown[]) => void chunks.push(a.join(' ')));
  const spyDebug = jest
    .spyOn(console, 'debug')
    .mockImplementation((...a: unknown[]) => void chunks.push(a.join(' ')));
  const spyWarn = jest
    .spyOn(console, 'warn')
    .mockImplementation((...a: unknown[]) => void chunks.push(a.join(' ')));
  const spyErr = jest
    .spyOn(console, 'error')
    .mockImplementation((...a: unknown[]) => void chunks.push(a.join(' ')));
  (process.stdout as unknown as { write: unknown }).write = (c: string) => (chunks.push(String(c)), true);
  (process.stderr as unknown as { write: unknown }).write = (c: string) => (chunks.push(String(c)), true);
  try {
    fn();
  } finally {
    (process.stdout as unknown as { write: unknown }).write = write;
    (process.stderr as unknown as { write: unknown }).write = writeErr;
    for (const s of [spyLog, spyInfo, spyDebug, spyWarn, spyErr]) s.mockRestore();
  }
  return chunks.join('\n');
}

describe('logger secret redaction', () => {
  const canary = {
    accessToken: 'AT-canary-7f3a9c1e5b2d',
    refreshToken: 'RT-canary-0b8e4f6a2c9d',
    clientSecret: 'CS-canary-5d1c7e3b9a4f',
    codeVerifier: 'CV-canary-2a6e8c0d4b1f3e5a7c9b',
    authorization: 'Bearer AT-canary-7f3a9c1e5b2d',
    code: 'AC-canary-9e7c5a3b1d',
  };

  it('masks secret keys at any depth and registered values anywhere in strings', () => {
    registerSecretValue('RAW-canary-3c5e7a9b1d');
    const logger = createLogger({ logLevel: 'DEBUG' });
    const out = captureStdout(() => {
      logger.debug('token refreshed', { channelId: 'ch_1', ...canary });
      logger.info('x call', {
        request: {
          headers: { Authorization: canary.authorization },
          body: { client_secret: canary.clientSecret, code_verifier: canary.codeVerifier },
        },
      });
      logger.error('vendor said', { detail: 'token RAW-canary-3c5e7a9b1d was invalid' });
    });
    expect(out).toContain('token refreshed');
    expect(out).toContain('ch_1');
    for (const value of [...Object.values(canary), 'RAW-canary-3c5e7a9b1d']) expect(out).not.toContain(value);
  });

  it.each([
    ['accessToken', 'x'.repeat(12), '***'],
    ['refresh_token', 'y'.repeat(12), '***'],
    ['Authorization', 'Bearer z', '***'],
    ['channelId', 'ch_1', 'ch_1'],
    ['tokenExpiresAt', '2026-01-01', '2026-01-01'],
  ])('redactSecrets(%s) → %s', (key, value, expected) => {
    expect(redactSecrets(key, value)).toBe(expected);
  });
});

describe('logger: result codes readable, OAuth authorization codes masked (issue 19 item 9)', () => {
  it('a result or error code under `code` is shown', () => {
    const logger = createLogger({ logLevel: 'DEBUG' });
    const out = captureStdout(() => {
      logger.warn('request failed', { code: 'rate_limited', kind: 'retryable' });
      logger.info('warning', { channelId: 'ch_1', code: 'auto_follow_discouraged' });
      logger.info('nested', { result: { code: 'channel_not_found' } });
    });
    expect(out).toContain('"code":"rate_limited"');
    expect(out).toContain('"code":"auto_follow_discouraged"');
    expect(out).toContain('"code":"channel_not_found"');
    expect(out).not.toContain('"code":"***"');
  });

  it.each([
    ['code', 'VGNibzFWSWREZm01bjN1N3dicWlNUG1oa2xRRVNNdmVHelJGY2hPWGxNd2JhOjE2MjIxNjA4MzgwNzk6MToxOmFjOjE'],
    ['code', 'AC-canary-9e7c5a3b1d'],
    ['code', 42],
    ['authorizationCode', 'abcdefghij'],
    ['oauthCode', 'abcdefghij'],
    ['authCode', 'abcdefghij'],
    ['auth_code', 'abcdefghij'],
  ])('redactSecrets(%s, %s) masks an authorization code', (key, value) => {
    expect(redactSecrets(key, value)).toBe('***');
  });

  it('an authorization code in a URL or form body is masked by parameter name', () => {
    const logger = createLogger({ logLevel: 'DEBUG' });
    const code = 'OC-canary-url-4d2b8f6a1c3e';
    const out = captureStdout(() => {
      logger.info('GET /oauth/callback?state=ST-canary-6e1a&code=' + code);
      logger.info('x call', {
        body: `grant_type=authorization_code&code=${code}&code_verifier=CV-canary-8b3d&client_id=app`,
        url: `https://console.example.test/oauth/callback?code=${code}#done`,
      });
    });
    expect(out).toContain('grant_type=authorization_code');
    expect(out).toContain('client_id=app');
    for (const v of [code, 'ST-canary-6e1a', 'CV-canary-8b3d']) expect(out).not.toContain(v);
  });

  it('the code the sign-in callback received is masked by value wherever it is logged later', async () => {
    const { createApp } = await import('../../../lambdas/api/app');
    const { fakeApiDeps } = await import('../api/deps');
    const { call } = await import('../api/events');
    // snake_case, so only its registration by the callback keeps it out of the logs
    const code = 'oauth_code_canary_5f9e1d7b';
    const res = await call(createApp(fakeApiDeps().deps), {
      method: 'GET',
      path: '/oauth/callback',
      query: `state=${'s'.repeat(43)}&code=${code}`,
      sub: null,
    });
    expect(res.status).toBe(400);
    const logger = createLogger({ logLevel: 'DEBUG' });
    const out = captureStdout(() => {
      logger.warn('token exchange failed', { code, detail: `X refused ${code}` });
      logger.info('sign-in callback', { outcome: 'invalid_state', code: 'invalid_state' });
    });
    expect(out).not.toContain(code);
    expect(out).toContain('"code":"invalid_state"');
  });
});
