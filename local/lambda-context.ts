/**
 * A Lambda-like `Context` for handlers run by the local host. Handlers (and Powertools'
 * `injectLambdaContext`) read `functionName`, `awsRequestId` and `getRemainingTimeInMillis()`, so
 * those behave as in Lambda; the deprecated `done/fail/succeed` callbacks are inert.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

/** The local account id: the same placeholder the stand-ins put into their ARNs. */
export const LOCAL_ACCOUNT_ID = '000000000000';

export interface LambdaContextOptions {
  functionName: string;
  /** The function timeout; `getRemainingTimeInMillis()` counts down from it. */
  timeoutMs: number;
  region: string;
  memoryLimitInMB?: number;
  /** Defaults to a fresh UUID, as Lambda gives each invocation. */
  awsRequestId?: string;
}

/**
 * Builds the context of one invocation; its deadline starts now.
 *
 * @example
 * const context = createLambdaContext({ functionName: 'sender', timeoutMs: 30_000, region: 'us-east-1' });
 * await handler(event, context);
 */
export function createLambdaContext(options: LambdaContextOptions): Context {
  const deadline = Date.now() + options.timeoutMs;
  const { functionName, region } = options;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${LOCAL_ACCOUNT_ID}:function:${functionName}`,
    memoryLimitInMB: String(options.memoryLimitInMB ?? 512),
    awsRequestId: options.awsRequestId ?? randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/[$LATEST]${randomUUID().replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Thrown (to the host, never to a client) when a handler outlives its function timeout. */
export class HandlerTimeoutError extends Error {
  constructor(
    readonly functionName: string,
    readonly timeoutMs: number,
  ) {
    super(`${functionName} timed out after ${timeoutMs} ms`);
    this.name = 'HandlerTimeoutError';
  }
}

/**
 * Runs `invoke` under a timeout like Lambda's. Lambda kills a timed-out sandbox; in-process we cannot
 * stop the promise, so the caller treats the invocation as failed and ignores its late outcome.
 */
export async function withTimeout<T>(
  functionName: string,
  timeoutMs: number,
  invoke: () => Promise<T>,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HandlerTimeoutError(functionName, timeoutMs)), timeoutMs);
  });
  try {
    return await Promise.race([invoke(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
