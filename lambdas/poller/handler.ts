/**
 * Lambda entry of the poller: poll-jobs queue → X → inbound FIFO (ReportBatchItemFailures).
 * Config and adapters are built once at cold start; a bad variable fails the cold start naming it.
 */
import { composePoller, createPollerHandler } from './compose';
import { loadPollerConfig } from './config';

export const handler = createPollerHandler(composePoller(loadPollerConfig(process.env)));
