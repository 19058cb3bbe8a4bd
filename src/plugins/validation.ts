import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
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

/** A NUL character, or half of a surrogate pair without its other half. */
// eslint-disable-next-line no-control-regex -- NUL is exactly what this looks for
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const pointer = (key: string | number) => `/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;

/**
 * Every string, and every object key, that PostgreSQL cannot store: `text` refuses NUL, `jsonb`
 * refuses NUL and lone surrogates, which JSON can carry as `\u0000` and `\ud800`. Rejected here,
 * with the schema's own errors, so no route passes them to the database (where they were a 500).
 * Iterative, so a deeply nested body cannot overflow the stack.
 */
function unstorableText(data: unknown): ErrorObject[] {
  const errors: ErrorObject[] = [];
  const stack: Array<[unknown, string]> = [[data, '']];
  while (stack.length > 0 && errors.length < 100) {
    const [value, path] = stack.pop()!;
    if (typeof value === 'string') {
      if (UNSTORABLE.test(value)) errors.push({ keyword: 'text', instancePath: path, schemaPath: '#', message: 'must be valid Unicode text without NUL characters', params: {} });
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push([value[i], path + pointer(i)]);
    } else if (value !== null && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        if (UNSTORABLE.test(key)) errors.push({ keyword: 'text', instancePath: path, schemaPath: '#', message: 'has a key that is not valid Unicode text without NUL characters', params: {} });
        else stack.push([child, path + pointer(key)]);
      }
    }
  }
  return errors;
}

/**
 * Query strings and path parameters arrive as text, so they are coerced to the schema's types;
 * JSON bodies are not: `"60"` is not a number there. (`sendEmail` strings are handled by the
 * token routes, as the vendor's Joi `insensitive` flag does.) Every part is also checked for
 * text the database cannot store.
 */
export function createValidatorCompiler(): FastifySchemaCompiler<FastifySchema> {
  const forText = makeAjv({ coerceTypes: 'array' });
  const forBody = makeAjv({ coerceTypes: false });
  return ({ schema, httpPart }) => {
    const validate = (httpPart === 'body' ? forBody : forText).compile(schema as object);
    // Same call shape as Ajv's own function (Fastify passes the parent so root values can be coerced).
    const checked = Object.assign(
      (data: unknown, dataCxt?: Parameters<ValidateFunction>[1]): boolean => {
        const valid = validate(data, dataCxt);
        const text = unstorableText(data);
        checked.errors = text.length ? [...(validate.errors ?? []), ...text] : validate.errors;
        return valid && text.length === 0;
      },
      { errors: null as ErrorObject[] | null | undefined, schemaEnv: validate.schemaEnv },
    );
    return checked;
  };
}
