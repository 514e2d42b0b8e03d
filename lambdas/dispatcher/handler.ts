/**
 * Lambda entry of the dispatcher (EventBridge schedule, one tick a minute by default).
 * Config and adapters are built once at cold start; a bad variable fails the cold start naming it.
 */
import { composeDispatcher, createDispatcherHandler } from './compose';
import { loadDispatcherConfig } from './config';

export const handler = createDispatcherHandler(composeDispatcher(loadDispatcherConfig(process.env)));
