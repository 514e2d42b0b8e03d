/**
 * Validates alert event details against the committed JSON Schema the AsyncAPI document references
 * (`schemas/alert.v1.json`, docs/asyncapi.yaml `x-channel.alert.v1`): what a consumer in another
 * language would use.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
const validate = ajv.compile(
  JSON.parse(readFileSync(join(__dirname, '..', '..', 'schemas', 'alert.v1.json'), 'utf8')),
);

/** What is wrong with `detail` per the schema (`<path> <problem>`); empty when it validates. */
export function alertDetailProblems(detail: unknown): string[] {
  if (validate(detail)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '(detail)'} ${e.message ?? ''}`.trim());
}
