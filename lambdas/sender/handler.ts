/**
 * Lambda entry of the sender: outbound FIFO queue → X → results queue (ReportBatchItemFailures).
 * Config and adapters are built once at cold start; a bad variable fails the cold start naming it.
 */
import { loadConfig } from '../shared/config';
import { composeSender } from './compose';
import { senderEnvSchema } from './config';
import { createSenderHandler } from './app';

export const handler = createSenderHandler(composeSender(loadConfig(senderEnvSchema, process.env)));
