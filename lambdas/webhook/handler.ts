/**
 * Lambda entry of the X webhook (STYLE.md §3): config and adapters at cold start, then middy.
 * Route: `GET|POST /x/webhook` in lib/routes.ts. Behaviour: ./app.ts, core/realtime/.
 */
import { createApp } from './app';
import { compose } from './compose';
import { loadConfig } from './config';

export const handler = createApp(compose(loadConfig(process.env)));
