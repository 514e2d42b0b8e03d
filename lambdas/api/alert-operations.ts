/**
 * `GET /alerts` (issue 20, item 4): the open alerts, newest first, as the dispatcher's evaluator left
 * them (core/alerts/, adapters/aws/dynamo-alerts.ts): one Query of the alert partition. The console's
 * banner reads it; docs/alerts.md lists the kinds.
 */
import type { AlertRecord } from '../../core/alerts/evaluate';
import { json, type ApiOperationId, type Operation } from './operations';

type AlertOperationId = Extract<ApiOperationId, 'listAlerts'>;

/** What the API shows of an alert (the evaluator's bookkeeping — lease, pending — stays inside). */
export function serializeAlert(a: AlertRecord) {
  return {
    id: a.id,
    kind: a.kind,
    severity: a.severity,
    channelId: a.channelId,
    title: a.title,
    text: a.text,
    facts: a.facts,
    consoleUrl: a.consoleUrl,
    openedAt: a.openedAt,
  };
}

export const alertOperations: Readonly<Record<AlertOperationId, Operation>> = {
  async listAlerts(ctx) {
    if (!ctx.deps.alerts) throw new Error('the alert store is not composed');
    const open = await ctx.deps.alerts.listOpen();
    open.sort((a, b) => b.openedAt.localeCompare(a.openedAt) || a.id.localeCompare(b.id));
    return json(200, { items: open.map(serializeAlert) });
  },
};
