import * as z from 'zod/mini';
import { ConfigError, baseEnvSchema, parseEnv, xEnvSchema } from '../../../lambdas/shared/config';

const schema = z.object({ ...baseEnvSchema.shape, ...xEnvSchema.shape, INBOUND_QUEUE_URL: z.url() });

describe('parseEnv', () => {
  it('returns typed config with defaults', () => {
    const c = parseEnv(schema, {
      AWS_REGION: 'us-east-1',
      TABLE_NAME: 't',
      X_APP_SECRET_ID: 'x-app',
      INBOUND_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/q.fifo',
    });
    expect(c.X_API_BASE_URL).toBe('https://api.x.com');
    expect(c.TOKEN_SECRET_PREFIX).toBe('x-channel/tokens/');
  });

  it('names every missing or invalid variable, without echoing values', () => {
    let error: unknown;
    try {
      parseEnv(schema, {
        AWS_REGION: 'us-east-1',
        INBOUND_QUEUE_URL: 'not a url secret-ish',
        X_API_BASE_URL: 'nope',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('TABLE_NAME is required');
    expect(message).toContain('X_APP_SECRET_ID is required');
    expect(message).toContain('INBOUND_QUEUE_URL is invalid');
    expect(message).toContain('X_API_BASE_URL is invalid');
    expect(message).not.toContain('secret-ish');
  });
});
