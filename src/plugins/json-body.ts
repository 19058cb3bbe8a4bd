import type { FastifyInstance } from 'fastify';
import { validationError, type FieldError } from '../errors.ts';

/** Levels of `{`/`[` a JSON body may nest, the body itself being the first. */
export const MAX_JSON_DEPTH = 32;
/** Object keys a JSON body may hold in all, at every level. */
export const MAX_JSON_KEYS = 10_000;

export interface JsonShapeLimits {
  depth: number;
  keys: number;
}

/** The top-level key a string token starts, decoded; the raw text if it does not decode. */
function decodeKey(token: string): string {
  let key: string;
  try {
    key = JSON.parse(token) as string;
  } catch {
    key = token.slice(1, -1);
  }
  return key.length > 100 ? `${key.slice(0, 100)}…` : key;
}

/**
 * Checks the shape of JSON text in one pass over its characters, before anything parses it:
 * nesting deeper than the limit, or more object keys than the limit, names the top-level field
 * that holds it. A loop with a counter, so no depth can overflow a stack; and it runs before
 * JSON.parse, which takes seconds on a megabyte of `[[[[...`. Malformed text is left to the
 * parser to report.
 */
export function jsonShapeProblem(text: string, limits: JsonShapeLimits = { depth: MAX_JSON_DEPTH, keys: MAX_JSON_KEYS }): FieldError | undefined {
  let depth = 0;
  let keys = 0;
  let rootIsObject = false;
  let expectKey = false;
  let topKey: string | undefined;
  const field = () => (depth > 1 && topKey !== undefined ? `body.${topKey}` : 'body');
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i += 2;
        else if (d === 0x22) break;
        else i++;
      }
      if (depth === 1 && expectKey) {
        topKey = decodeKey(text.slice(start, i + 1));
        expectKey = false;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth++;
      if (depth === 1) expectKey = rootIsObject = c === 0x7b;
      if (depth > limits.depth) return { path: field(), message: `is nested more than ${limits.depth} levels deep (the body is the first level)` };
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    } else if (c === 0x2c /* , */) {
      if (depth === 1 && rootIsObject) expectKey = true;
    } else if (c === 0x3a /* : */) {
      if (++keys > limits.keys) return { path: field(), message: `makes the body hold more than ${limits.keys} keys` };
    }
  }
  return undefined;
}

/**
 * Fastify's own JSON parser (prototype-poisoning checks included) behind the shape check, so
 * a body too deep or too wide is a 400 3000 before JSON.parse, Ajv, canonical JSON or a
 * jsonb encoder ever walks it.
 */
export function registerJsonBodyParser(app: FastifyInstance, limits?: JsonShapeLimits): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const problem = jsonShapeProblem(body as string, limits);
    if (problem) {
      done(validationError([problem]), undefined);
      return;
    }
    parse(request, body as string, done);
  });
}
