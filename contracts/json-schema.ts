import * as z from 'zod/mini';
import { alertContractSchemas } from './alert';
import { contractSchemas } from './index';

/** Renders each contract to the JSON Schema text committed under `schemas/`. */
export function renderSchemas(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, schema] of Object.entries({ ...contractSchemas, ...alertContractSchemas })) {
    const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input' }) as Record<string, unknown>;
    const doc = { $id: `https://x-channel.dev/schemas/${name}.json`, ...json };
    out[`${name}.json`] = JSON.stringify(doc, null, 2) + '\n';
  }
  return out;
}
