import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchema, FastifySchemaCompiler } from 'fastify';

const common: Options = {
  allErrors: true, // list every failing field in one answer (CONTRACT.md section 2)
  removeAdditional: false, // unknown keys are rejected, never silently dropped
  useDefaults: true,
  strict: false,
};

function makeAjv(options: Options): Ajv {
  const ajv = new Ajv({ ...common, ...options });
  addFormats.default(ajv);
  return ajv;
}

/**
 * Query strings and path parameters arrive as text, so they are coerced to the schema's types;
 * JSON bodies are not: `"60"` is not a number there. (`sendEmail` strings are handled by the
 * token routes, as the vendor's Joi `insensitive` flag does.)
 */
export function createValidatorCompiler(): FastifySchemaCompiler<FastifySchema> {
  const forText = makeAjv({ coerceTypes: 'array' });
  const forBody = makeAjv({ coerceTypes: false });
  return ({ schema, httpPart }) => (httpPart === 'body' ? forBody : forText).compile(schema as object);
}
