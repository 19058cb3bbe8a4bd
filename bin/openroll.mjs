#!/usr/bin/env node
// Runs the compiled build in dist/ (`npm run build`, which `npm ci` runs) while it matches the
// sources, so the process starts without compiling TypeScript; otherwise the TypeScript sources
// through tsx, so a fresh edit or a pull without a rebuild still runs as it is.
import { serverBuildState } from '../scripts/server-build.mjs';

const argv = process.argv.slice(2);
const build = serverBuildState();
let source = '../dist/src';
if (!build.current) {
  const { register } = await import('tsx/esm/api');
  register();
  source = '../src';
  // Said where it matters, on the server's standard output (standard error stays for failures).
  if (argv[0] === 'serve') console.log(`Running the TypeScript sources through tsx: ${build.reason} (npm run build compiles them).`);
}
const ext = build.current ? 'js' : 'ts';
// `tokens import|export` only talk HTTP: they start without loading the server and its database.
const code =
  argv[0] === 'tokens'
    ? await (await import(`${source}/cli/tokens-csv.${ext}`)).runTokensCommand(argv.slice(1), process.env)
    : await (await import(`${source}/cli.${ext}`)).main(argv);
if (code >= 0) process.exitCode = code;
