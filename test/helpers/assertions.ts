import assert from 'node:assert/strict';
import type { Json } from './test-app.ts';

/** ISO-8601 UTC with milliseconds, as every date of the API is written. */
export const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** An error envelope with the status and code (codes, never messages). */
export function assertError(res: Json, status: number, code: number): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.status, false);
  assert.equal(res.body.error.code, code);
}

/** The distinct field paths of a 400 3000, sorted. */
export function errorPaths(res: Json): string[] {
  assertError(res, 400, 3000);
  return [...new Set<string>(res.body.error.data.errors.map((e: { path: string }) => e.path))].sort();
}
