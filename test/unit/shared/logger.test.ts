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
