import { readFileSync } from 'node:fs';

export type SeedSample = '002-create-windows-token' | '003-create-windows-token-older-page' | '004-bulk-create-windows-tokens';

/** The literal sample body of a seed page (test/fixtures/seed-samples/README.md). */
export function seedSampleBody(name: SeedSample): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../fixtures/seed-samples/${name}.json`, import.meta.url), 'utf8'));
}
