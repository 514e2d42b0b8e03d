/**
 * Validates sim-x answers against the response schemas of X's published OpenAPI (spec 2.166,
 * extracted to test/fixtures/x-openapi/responses.json; the XAA and webhook endpoints from spec
 * 2.167 in xaa-responses.json, media upload v2 from 2.167 in media-responses.json; see its README).
 */
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import spec from '../../fixtures/x-openapi/responses.json';
import xaaSpec from '../../fixtures/x-openapi/xaa-responses.json';
import mediaSpec from '../../fixtures/x-openapi/media-responses.json';

interface Fixture {
  openapiVersion: string;
  responses: Record<string, { status: number; schema: string }>;
  components: { schemas: Record<string, unknown> };
}

const fixture = spec as unknown as Fixture;
const xaaFixture = xaaSpec as unknown as Fixture;
const mediaFixture = mediaSpec as unknown as Fixture;
// OpenAPI 3.0 keywords (nullable, discriminator, example) are not JSON Schema: strict off lets ajv skip them.
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addFormat('int32', true);
ajv.addFormat('int64', true);
ajv.addSchema({ $id: 'x-openapi', components: fixture.components });
ajv.addSchema({ $id: 'x-openapi-xaa', components: xaaFixture.components });
ajv.addSchema({ $id: 'x-openapi-media', components: mediaFixture.components });

const validators = new Map<string, ValidateFunction>();
function validatorFor(id: string, ref: string): ValidateFunction {
  let v = validators.get(id + ref);
  if (!v) {
    v = ajv.compile({ $ref: `${id}${ref}` });
    validators.set(id + ref, v);
  }
  return v;
}

/** One answer that does not match X's schema. */
export interface WireViolation {
  endpoint: string;
  status: number;
  errors: string[];
}

/** Checks one answer; returns null when it conforms (or is an error answer, whose schema is not per endpoint). */
export function checkWireFormat(endpoint: string, status: number, body: string): WireViolation | null {
  const [id, source] = fixture.responses[endpoint]
    ? ['x-openapi', fixture]
    : xaaFixture.responses[endpoint]
      ? ['x-openapi-xaa', xaaFixture]
      : ['x-openapi-media', mediaFixture];
  const expected = source.responses[endpoint];
  if (!expected) return { endpoint, status, errors: ['no schema for this endpoint'] };
  if (status >= 300) return null;
  const validate = validatorFor(id, expected.schema);
  if (status !== expected.status)
    return { endpoint, status, errors: [`status ${status}, X sends ${expected.status}`] };
  if (validate(JSON.parse(body))) return null;
  return {
    endpoint,
    status,
    errors: (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`),
  };
}

/** The spec version the fixtures come from. */
export const OPENAPI_VERSION = fixture.openapiVersion;
/** The spec version the XAA and webhook schemas come from. */
export const XAA_OPENAPI_VERSION = xaaFixture.openapiVersion;
