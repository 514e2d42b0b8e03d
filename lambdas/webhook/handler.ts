/**
 * Lambda entry of the X webhook (STYLE.md §3): config and adapters at cold start, then middy.
 * Route: `GET|POST /x/webhook` in lib/routes.ts. Behaviour: ./app.ts, core/realtime/.
 */
import { createWebhookApp } from './app';
import { composeWebhook } from './compose';
import { loadWebhookConfig } from './config';

export const handler = createWebhookApp(composeWebhook(loadWebhookConfig(process.env)));
