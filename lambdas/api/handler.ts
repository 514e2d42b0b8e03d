/**
 * Lambda entry of the admin API (STYLE.md §3): config and adapters at cold start, then middy.
 * Routes: lib/routes.ts. Operations: ./operations.ts. Routing, auth and errors: ./app.ts.
 * The same function runs the scheduled retry of pending revocations (./revocation-retry.ts) when its
 * schedule invokes it: it already holds the token secrets and the table that needs.
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { createApp } from './app';
import { compose } from './compose';
import { loadConfig } from './config';
import { createRevocationRetryApp, isRevocationRetryEvent } from './revocation-retry';

const deps = compose(loadConfig(process.env));
const http = createApp(deps);
const retry = createRevocationRetryApp(deps);

export const handler = (event: APIGatewayProxyEventV2, context: Context) =>
  isRevocationRetryEvent(event) ? retry(event, context) : http(event, context);
