import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * The layer rule of ARCHITECTURE.md ("What may import what"), checked on the sources: every
 * top-level area of src/ has a layer and a list of what it may import, all of it below; no
 * folder is in a cycle. The imports come from TypeScript's own scanner (static, type-only,
 * re-exports, dynamic `import()`), not from a pattern.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** Every relative import of each file under src/, as paths relative to src/ (`mail/mailer.ts`). */
const imports = sourceFiles(SRC).map((file) => {
  const found = ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((f) => f.fileName);
  const targets = found.filter((name) => name.startsWith('.')).map((name) => relative(SRC, resolve(dirname(file), name)));
  return { file: relative(SRC, file), targets };
});
const edges = imports.flatMap(({ file, targets }) => targets.map((to) => ({ from: file, to })));

/** The area (top-level folder or root file) an src/ path belongs to: `modules`, `mail`, `errors.ts`, ... */
const areaOf = (path: string) => (path.includes('/') ? path.slice(0, path.indexOf('/')) : path);

/** What an area of a wiring layer may import: every area of a lower layer. */
const BELOW = 'below';
type Allowed = readonly string[] | typeof BELOW;

/** The layers, lowest first. An area may import its own files and what its list names, all of it in lower layers. */
const LAYERS: ReadonlyArray<Readonly<Record<string, Allowed>>> = [
  // The foundation: the client and schema, and the vocabulary every layer speaks (no I/O).
  // Where Openroll's own folder is (migrations/, console/dist, the embedded database's worker).
  { 'package-root.ts': [] },
  { db: ['package-root.ts'], 'errors.ts': [], 'config.ts': [], 'permissions.ts': [] },
  { lib: ['db', 'errors.ts'], 'logger.ts': ['config.ts'] },
  {
    platforms: ['errors.ts'],
    auth: ['db', 'lib', 'errors.ts', 'permissions.ts'],
    // Request and email counters kept in the database, so every process shares them.
    limits: ['db', 'errors.ts'],
    // config.ts: where the server key is read from.
    pki: ['db', 'lib', 'errors.ts', 'config.ts'],
  },
  {
    // The one polling worker (claim, lease, heartbeat, retry, settle) under every outbox; it
    // knows tables and the clock, nothing of what is sent.
    outbox: ['db', 'lib'],
    // db: the statement-timeout plugin maps the database's own timeout error to 503 3004.
    plugins: ['auth', 'lib', 'db', 'limits', 'errors.ts', 'permissions.ts', 'config.ts'],
  },
  {
    mail: ['db', 'lib', 'platforms', 'outbox'],
    // The endpoints' routes (plugins: the auth hook) and their outbox; nothing of tokens.
    webhooks: ['db', 'lib', 'auth', 'plugins', 'outbox', 'errors.ts', 'permissions.ts'],
    // The APNs client and the push outbox; devices and certificates reach it as functions (container.ts).
    push: ['db', 'lib', 'outbox'],
  },
  // The admin API's resources. The lifecycle writes the email and webhook outboxes; the push
  // certificate is kept encrypted with the server key; device identities are revoked through pki.
  { modules: ['db', 'lib', 'auth', 'limits', 'plugins', 'mail', 'pki', 'webhooks', 'platforms', 'errors.ts', 'config.ts', 'permissions.ts'] },
  // The one owner of enrolled devices and their command queue (issue 23); enqueuing an Apple
  // command queues its push (push/); a command a device answered writes its webhook deliveries
  // (webhooks/, a lower layer: the event names, the payload type and the delivery rows).
  { devices: ['db', 'lib', 'auth', 'plugins', 'outbox', 'push', 'webhooks', 'pki', 'modules', 'platforms', 'errors.ts', 'config.ts', 'permissions.ts'] },
  {
    // Device protocols: decode, call the devices' face (and the token module's), encode; no
    // repository and no transaction here, so no db/.
    protocols: ['devices', 'modules', 'pki', 'limits', 'platforms', 'lib', 'errors.ts', 'config.ts'],
    // The public page behind every enrollment link: the mail's templates and recipient port.
    'enroll-page': ['mail', 'lib', 'limits', 'platforms', 'errors.ts'],
    console: ['auth', 'db', 'lib', 'errors.ts', 'permissions.ts', 'config.ts', 'package-root.ts'],
    // Counts tokens by the state rule (token-state.ts), so it sits above the modules.
    metrics: ['db', 'lib', 'modules', 'platforms', 'errors.ts'],
    // The operator's CSV import and export, over the HTTP API.
    cli: ['lib', 'modules', 'platforms', 'errors.ts'],
  },
  // The wiring: each may import anything below it.
  { 'container.ts': BELOW },
  { 'app.ts': BELOW, 'jobs.ts': BELOW },
  { 'server.ts': BELOW },
  { 'cli.ts': BELOW },
];

/** Areas the rule places before they exist; every other area of the table must be in src/. */
const FUTURE = new Set<string>([]);

/**
 * Today's imports against the rule, each with why it is still there. The list only shrinks: a
 * listed import that no longer occurs fails the test too, so remove it with the move that ends it.
 */
const EXCEPTIONS: ReadonlyArray<{ from: string; to: string; reason: string }> = [
  // None today: the device moves of issue 23 ended the last ones.
];

const layerOf = new Map<string, number>();
const allowedOf = new Map<string, Allowed>();
LAYERS.forEach((layer, rank) => {
  for (const [area, allowed] of Object.entries(layer)) {
    layerOf.set(area, rank);
    allowedOf.set(area, allowed);
  }
});

const isException = (e: { from: string; to: string }) => EXCEPTIONS.some((x) => x.from === e.from && x.to === e.to);

/** Imports of `area` the rule does not allow (an unknown target area is never allowed). */
function disallowed(area: string, edgeList: ReadonlyArray<{ from: string; to: string }>): string[] {
  const allowed = allowedOf.get(area)!;
  const rank = layerOf.get(area)!;
  return edgeList
    .filter((e) => areaOf(e.from) === area && areaOf(e.to) !== area && !e.to.startsWith('..'))
    .filter((e) => {
      const target = areaOf(e.to);
      if (allowed === BELOW) return !(layerOf.has(target) && layerOf.get(target)! < rank);
      return !allowed.includes(target);
    })
    .map((e) => `${e.from} -> ${e.to}`);
}

/** The folder a path is in (`modules/enrollment-tokens`); a root file stands for itself. */
const folderOf = (path: string) => (path.includes('/') ? dirname(path) : path);

/** The strongly connected groups of more than one folder (Tarjan), each sorted, with the imports inside it. */
function folderCycles(edgeList: ReadonlyArray<{ from: string; to: string }>): string[][] {
  const next = new Map<string, Set<string>>();
  for (const { from, to } of edgeList) {
    const [a, b] = [folderOf(from), folderOf(to)];
    if (a === b || to.startsWith('..')) continue;
    if (!next.has(a)) next.set(a, new Set());
    next.get(a)!.add(b);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const group: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      group.push(w);
    } while (w !== v);
    if (group.length > 1) groups.push(group.sort());
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) visit(v);
  return groups.map((group) => [...group, ...edgeList.filter((e) => group.includes(folderOf(e.from)) && group.includes(folderOf(e.to)) && folderOf(e.from) !== folderOf(e.to)).map((e) => `  ${e.from} -> ${e.to}`)]);
}

describe('the layer rule', () => {
  test('every top-level area of src/ has a layer, and every area of the table is in src/ (or still to come)', () => {
    const present = readdirSync(SRC, { withFileTypes: true })
      .filter((e) => e.isDirectory() || e.name.endsWith('.ts'))
      .map((e) => e.name);
    assert.deepEqual(
      present.filter((area) => !layerOf.has(area)),
      [],
      'a new area of src/: give it a layer in ARCHITECTURE.md and in LAYERS here',
    );
    assert.deepEqual(
      [...layerOf.keys()].filter((area) => !present.includes(area) && !FUTURE.has(area)),
      [],
    );
  });

  test('what each area may import is in the layers below it', () => {
    const upward = [...allowedOf].flatMap(([area, allowed]) => (allowed === BELOW ? [] : allowed.filter((t) => !(layerOf.get(t)! < layerOf.get(area)!)).map((t) => `${area} -> ${t}`)));
    assert.deepEqual(upward, []);
  });

  for (const [area, allowed] of allowedOf) {
    test(`${area} imports only ${allowed === BELOW ? 'the layers below it' : allowed.length ? allowed.join(', ') : 'itself'}`, () => {
      assert.deepEqual(disallowed(area, edges.filter((e) => !isException(e))), []);
    });
  }

  test('every listed exception still occurs and still breaks the rule (the list only shrinks)', () => {
    const gone = EXCEPTIONS.filter((x) => !edges.some((e) => e.from === x.from && e.to === x.to)).map((x) => `${x.from} -> ${x.to}`);
    assert.deepEqual(gone, [], 'remove these from EXCEPTIONS: they no longer occur');
    const fine = EXCEPTIONS.filter((x) => disallowed(areaOf(x.from), [x]).length === 0).map((x) => `${x.from} -> ${x.to}`);
    assert.deepEqual(fine, [], 'remove these from EXCEPTIONS: the rule allows them');
  });

  test('no folder is in an import cycle with another', () => {
    assert.deepEqual(folderCycles(edges.filter((e) => !isException(e))), []);
  });

  test('the checks see what they look for', () => {
    // The checker on a made-up tree, so that a broken checker cannot pass on a clean one.
    assert.deepEqual(folderCycles([{ from: 'a/x.ts', to: 'b/y.ts' }, { from: 'b/y.ts', to: 'c/z.ts' }, { from: 'c/z.ts', to: 'a/w.ts' }]).map((g) => g.slice(0, 3)), [['a', 'b', 'c']]);
    assert.deepEqual(folderCycles([{ from: 'a/x.ts', to: 'b/y.ts' }, { from: 'a/w.ts', to: 'b/y.ts' }]), []);
    assert.deepEqual(disallowed('lib', [{ from: 'lib/ids.ts', to: 'modules/x/x.repo.ts' }]), ['lib/ids.ts -> modules/x/x.repo.ts']);
    assert.deepEqual(disallowed('pki', [{ from: 'pki/csr.ts', to: 'webhooks/webhook-sender.ts' }]), ['pki/csr.ts -> webhooks/webhook-sender.ts']);
    assert.deepEqual(disallowed('container.ts', [{ from: 'container.ts', to: 'app.ts' }]), ['container.ts -> app.ts']);
    assert.deepEqual(disallowed('server.ts', [{ from: 'server.ts', to: 'app.ts' }]), []);
    // The scanner sees every form of import.
    const scanned = ts.preProcessFile("import type { A } from './a.ts';\nexport * from './b.ts';\nawait import('./c.ts');\nimport './d.ts';", true, true).importedFiles.map((f) => f.fileName);
    assert.deepEqual(scanned, ['./a.ts', './b.ts', './c.ts', './d.ts']);
  });
});

describe('what may import what, besides the layers', () => {
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
