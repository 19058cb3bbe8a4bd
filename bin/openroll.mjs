#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx, so there is no build step to forget.
import { register } from 'tsx/esm/api';

register();
const argv = process.argv.slice(2);
// `tokens import|export` only talk HTTP: they start without loading the server and its database.
const code =
  argv[0] === 'tokens'
    ? await (await import('../src/cli/tokens-csv.ts')).runTokensCommand(argv.slice(1), process.env)
    : await (await import('../src/cli.ts')).main(argv);
if (code >= 0) process.exitCode = code;
