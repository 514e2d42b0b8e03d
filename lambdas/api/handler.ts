/**
 * Lambda entry of the admin API (STYLE.md §3): config and adapters at cold start, then middy.
 * Routes: lib/routes.ts. Operations: ./operations.ts. Routing, auth and errors: ./app.ts.
 */
import { createApp } from './app';
import { compose } from './compose';
import { loadConfig } from './config';

export const handler = createApp(compose(loadConfig(process.env)));
