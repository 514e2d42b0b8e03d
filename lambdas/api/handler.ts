/**
 * Lambda entry of the admin API (STYLE.md §3): config and adapters at cold start, then middy.
 * Routes: ./routes.ts. Behaviour: ./app.ts.
 */
import { createMiddyApiHandler } from './app';
import { compose } from './compose';
import { loadApiConfig } from './config';

const deps = compose(loadApiConfig(process.env));

export const handler = createMiddyApiHandler(deps);
