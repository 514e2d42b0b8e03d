/**
 * Lambda entry of the dispatcher (EventBridge schedule, one tick a minute by default).
 * Config and adapters are built once at cold start; a bad variable fails the cold start naming it.
 */
import { createApp } from './app';
import { compose } from './compose';
import { loadConfig } from './config';

export const handler = createApp(compose(loadConfig(process.env)));
