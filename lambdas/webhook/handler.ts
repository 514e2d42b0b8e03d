/**
 * Lambda entry of the X webhook (STYLE.md §3): config and adapters at cold start, then middy.
 * Route: `GET|POST /x/webhook` in lib/routes.ts. Behaviour: ./app.ts, core/realtime/.
 * The same function runs the real-time watch (core/realtime/watch.ts) when a schedule invokes it: it
 * already holds what the watch needs (the X app secret, the table) and nothing more.
 */
import type { Context } from 'aws-lambda';
import { createApp, createWatchApp, isScheduledEvent } from './app';
import { compose } from './compose';
import { loadConfig } from './config';

const runtime = compose(loadConfig(process.env));
const http = createApp(runtime);
const watch = createWatchApp(runtime);

export const handler = (event: never, context: Context) =>
  isScheduledEvent(event) ? watch(event, context) : http(event, context);
