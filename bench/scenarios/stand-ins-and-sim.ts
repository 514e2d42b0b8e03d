/**
 * Scenario 8, the servers under the harness: request rates of the SQS and DynamoDB stand-ins
 * (bench/stand-ins.ts) and of the simulated X (bench/sim-x.ts, written with the simulator), so a reader
 * can tell whether a pipeline figure is ours or the harness's ceiling.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { benchStandIns } from '../stand-ins';
import type { ScenarioContext } from '../types';

export interface ServersResult {
  sqs: { unbatchedMessagesPerSecond: number | null; batchedMessagesPerSecond: number | null };
  dynamodb: { conditionalPutsPerSecond: number | null };
  simX: Record<string, number | null | string>;
  missing?: string;
}

/** Strips the `standIns.` prefix and nests `a.b` keys one level. */
function nest(flat: Record<string, number>, prefix: string): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const [key, value] of Object.entries(flat)) {
    const [group, name] = key.replace(prefix, '').split('.');
    (out[group] ??= {})[name] = value;
  }
  return out;
}

export async function benchServers(ctx: ScenarioContext): Promise<ServersResult> {
  ctx.progress('stand-ins: SQS and DynamoDB Local');
  const stand = nest(await benchStandIns({ quick: ctx.quick }), 'standIns.');
  let simX: ServersResult['simX'];
  const file = path.join(__dirname, '..', 'sim-x.ts');
  if (!existsSync(file)) {
    simX = { mentionReadsPerSecond: null, missing: 'bench/sim-x.ts (benchSimX) is not in this checkout yet' };
  } else {
    ctx.progress('simulated X');
    // computed specifier: the module is written by the simulated-X engineer and may land later
    const mod = (await import(file)) as {
      benchSimX?: (o: { quick: boolean }) => Promise<Record<string, number>>;
    };
    if (typeof mod.benchSimX !== 'function') {
      simX = { mentionReadsPerSecond: null, missing: 'bench/sim-x.ts does not export benchSimX' };
    } else {
      const raw = await mod.benchSimX({ quick: ctx.quick });
      simX = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k.replace(/^simX\./, ''), v]));
    }
  }
  return {
    sqs: {
      unbatchedMessagesPerSecond: stand.sqs?.unbatchedMessagesPerSecond ?? null,
      batchedMessagesPerSecond: stand.sqs?.batchedMessagesPerSecond ?? null,
    },
    dynamodb: { conditionalPutsPerSecond: stand.dynamodb?.conditionalPutsPerSecond ?? null },
    simX,
  };
}
