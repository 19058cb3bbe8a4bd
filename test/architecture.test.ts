import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

/** The import rules of ARCHITECTURE.md ("What may import what"), checked on the sources. */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** Every relative import of each file under src/, as paths relative to src/ (`mail/mailer.ts`). */
const imports = sourceFiles(SRC).map((file) => {
  const text = readFileSync(file, 'utf8');
  const targets = [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+'(\.[^']+)'/g)].map((m) => relative(SRC, resolve(dirname(file), m[1]!)));
  return { file: relative(SRC, file), targets };
});

/** The folder (or root file) an src/ path belongs to: `modules`, `mail`, `errors.ts`, ... */
const areaOf = (path: string) => (path.includes('/') ? path.slice(0, path.indexOf('/')) : path);

const VOCABULARY = ['errors.ts', 'config.ts', 'permissions.ts', 'platforms'];
const ALLOWED: Record<string, string[]> = {
  db: [],
  'errors.ts': [],
  'config.ts': VOCABULARY,
  'permissions.ts': VOCABULARY,
  platforms: VOCABULARY,
  lib: ['db', 'errors.ts'],
  auth: ['db', 'lib', 'errors.ts', 'permissions.ts'],
  // limits: request and email counters kept in the database, so every process shares them.
  limits: ['db', 'errors.ts'],
  // db: the statement-timeout plugin maps the database's own timeout error to 503 3004.
  plugins: ['auth', 'lib', 'db', 'limits', 'errors.ts', 'permissions.ts', 'config.ts'],
  // outbox: the one polling worker (claim, lease, heartbeat, retry, settle) under every outbox
  // (issue 27); it knows tables and the clock, nothing of what is sent.
  outbox: ['db', 'lib'],
  mail: ['db', 'lib', 'platforms', 'outbox'],
  // protocols: a Windows token's page links to the discovery URL the Windows protocol serves.
  // limits: the page's wrong-link limit counts per client address in the shared counters.
  'enroll-page': ['mail', 'lib', 'limits', 'platforms', 'protocols'],
  // pki, webhooks, protocols came with device enrollment and webhooks (issues 12, 13, 16): the
  // lifecycle writes the webhook outbox beside the email outbox, the push certificate is kept
  // encrypted with the server key, and the device admin routes read the protocols' device rows.
  // devices: the device modules show the command counts and clear the queue on retire (issue
  // 23); the arrow goes away when those modules move into src/devices/ (issue 23, item 1).
  modules: ['db', 'lib', 'auth', 'limits', 'plugins', 'mail', 'pki', 'webhooks', 'protocols', 'devices', ...VOCABULARY],
  // devices: the command queue (issue 23): its table, its route (auth, plugins), nothing above.
  devices: ['db', 'lib', 'auth', 'plugins', ...VOCABULARY],
};

describe('what may import what', () => {
  for (const [area, allowed] of Object.entries(ALLOWED)) {
    test(`${area} imports only ${allowed.length ? allowed.join(', ') : 'itself'}`, () => {
      const wrong = imports
        .filter((f) => areaOf(f.file) === area)
        .flatMap((f) => f.targets.filter((t) => areaOf(t) !== area && !allowed.includes(areaOf(t))).map((t) => `${f.file} -> ${t}`));
      assert.deepEqual(wrong, []);
    });
  }

  test('nothing in src/ imports bench/, test/ or anything outside src/', () => {
    // The one exception: the server checks that the console's build matches its sources.
    const outside = imports.flatMap((f) => f.targets.filter((t) => t.startsWith('..') && t !== '../console/source-hash.ts').map((t) => `${f.file} -> ${t}`));
    assert.deepEqual(outside, []);
  });

  test('routes touch no SQL, services see no request or reply', () => {
    const wrong: string[] = [];
    for (const { file, targets } of imports) {
      const text = readFileSync(join(SRC, file), 'utf8');
      if (file.endsWith('.routes.ts') && (targets.some((t) => t.startsWith('db/') || t.endsWith('.repo.ts')) || text.includes("from 'drizzle-orm"))) wrong.push(file);
      if (file.endsWith('.service.ts') && /from 'fastify'/.test(text)) wrong.push(file);
    }
    assert.deepEqual(wrong, []);
  });

  test('benchmark code is not in src/', () => {
    assert.equal(existsSync(join(SRC, 'bench')), false);
  });
});
