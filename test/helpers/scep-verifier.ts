import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * micromdm's SCEP library as Debian packages it (`golang-go`, `golang-github-micromdm-scep-dev`),
 * driven by test/scep-verifier/main.go. Built once per test file. Without Go or the library the
 * suites that need it skip with this message, unless OPENROLL_REQUIRE_SCEP_VERIFIER=1 (CI), where
 * a missing verifier is a failure.
 */
const GOCODE = '/usr/share/gocode';
const LIBRARY = `${GOCODE}/src/github.com/micromdm/scep`;
const SOURCE = fileURLToPath(new URL('../scep-verifier/', import.meta.url));
export const SCEP_VERIFIER_REQUIRED = process.env.OPENROLL_REQUIRE_SCEP_VERIFIER === '1';

export type ScepVerifier = { binary: string } | { missing: string };

export function buildScepVerifier(): ScepVerifier {
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  let missing: string | undefined;
  if (go.error || go.status !== 0) missing = 'the Go toolchain is not installed (apt-get install golang-go)';
  else if (!existsSync(`${LIBRARY}/scep/scep.go`)) missing = `micromdm's SCEP library is not in ${LIBRARY} (apt-get install golang-github-micromdm-scep-dev)`;
  if (missing) {
    if (SCEP_VERIFIER_REQUIRED) throw new Error(`OPENROLL_REQUIRE_SCEP_VERIFIER=1 but ${missing}`);
    return { missing: `skipped: ${missing}` };
  }
  const work = mkdtempSync(path.join(tmpdir(), 'openroll-scep-verifier-'));
  // Debian ships the v2 module as a GOPATH package without its /v2 path; an overlay GOPATH adds it.
  mkdirSync(path.join(work, 'src/github.com/micromdm/scep'), { recursive: true });
  symlinkSync(LIBRARY, path.join(work, 'src/github.com/micromdm/scep/v2'));
  const binary = path.join(work, 'scep-verifier');
  const built = spawnSync('go', ['build', '-o', binary, '.'], {
    cwd: SOURCE,
    encoding: 'utf8',
    timeout: 300_000,
    env: {
      ...process.env,
      GOPATH: `${work}:${GOCODE}`,
      GO111MODULE: 'off',
      GOFLAGS: '',
      GOCACHE: process.env.GOCACHE ?? path.join(tmpdir(), 'openroll-go-build-cache'),
    },
  });
  if (built.status !== 0) throw new Error(`building test/scep-verifier failed: ${built.error?.message ?? ''}${built.stderr}`);
  return { binary };
}

/** Runs the verifier; resolves with its JSON answer, rejects with its stderr. */
export function runScepVerifier(binary: string, args: string[], input?: Buffer): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = execFile(binary, args, { timeout: 60_000, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`scep-verifier ${args[0]}: ${stderr || error.message}`));
      else resolve(JSON.parse(stdout) as Record<string, unknown>);
    });
    child.stdin?.end(input ?? Buffer.alloc(0));
  });
}
