/**
 * `npm pack` of the typed client as a fresh clone has it (no dist/, which is not committed):
 * the prepack script builds dist/ into the package, and a client that does not compile fails
 * the pack instead of shipping a package without it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const CLIENT = fileURLToPath(new URL('../../clients/typescript/', import.meta.url));
const ROOT_MODULES = fileURLToPath(new URL('../../node_modules/', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'openroll-client-pack-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** The client's committed files alone, with the repository's installed dependencies. */
function freshClone(name: string): string {
  const dir = join(work, name);
  for (const entry of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md', 'src']) cpSync(join(CLIENT, entry), join(dir, entry), { recursive: true });
  symlinkSync(ROOT_MODULES, join(dir, 'node_modules'), 'dir');
  assert.equal(existsSync(join(dir, 'dist')), false);
  return dir;
}

function pack(dir: string) {
  const out = `${dir}-packed`;
  mkdirSync(out);
  const result = spawnSync('npm', ['pack', '--json', '--pack-destination', out], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`, npm_config_ignore_scripts: 'false', npm_config_loglevel: 'error' },
  });
  return { ...result, out };
}

test('npm pack builds dist/ and ships dist/index.js and dist/index.d.ts', () => {
  const dir = freshClone('ok');
  const result = pack(dir);
  assert.equal(result.status, 0, result.stderr);
  const [report] = JSON.parse(result.stdout.slice(result.stdout.indexOf('['))) as Array<{ files: Array<{ path: string }>; filename: string }>;
  const files = report!.files.map((f) => f.path);
  for (const file of ['dist/index.js', 'dist/index.d.ts', 'dist/openapi.d.ts', 'package.json']) assert.ok(files.includes(file), `${file} in ${files.join(', ')}`);
  assert.ok(readdirSync(result.out).includes(report!.filename), 'the tarball was written');
});

test('a client that does not build fails the pack loudly, and no package is written', () => {
  const dir = freshClone('broken');
  writeFileSync(join(dir, 'src', 'index.ts'), "export const broken: number = 'not a number';\n", { flag: 'a' });
  const result = pack(dir);
  assert.notEqual(result.status, 0);
  assert.match(`${result.stdout}${result.stderr}`, /TS2322/);
  assert.deepEqual(readdirSync(result.out), []);
});
