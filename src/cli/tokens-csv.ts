import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CsvError } from 'csv-parse/sync';
import { LANGUAGES } from '../lib/languages.ts';
import { PLATFORMS, type Platform } from '../platforms/platforms.ts';
import { ApiUnreachableError, createApiClient } from './api-client.ts';
import { CsvHeaderError } from './import-rows.ts';
import { exportTokens, parseStates } from './tokens-export.ts';
import { importTokens, StoppedError, resultsCsv } from './tokens-import.ts';

/**
 * `openroll tokens import|export`: CSV in and out through the HTTP API of a running server
 * (any one: these commands never open a database), with the URL and key from flags or from
 * OPENROLL_URL and OPENROLL_KEY.
 */
const CONNECTION = `Connection: --url <server> (or OPENROLL_URL; default http://localhost:3000) and --key <API key> (or OPENROLL_KEY).`;

export const TOKENS_USAGE: Record<string, string> = {
  tokens: `Usage: openroll tokens import|export [options]
  import   create one enrollment token per row of a CSV file, in chunks through the bulk API
  export   write the organization's tokens of one platform as CSV
Run "openroll tokens import --help" or "openroll tokens export --help" for their options.`,
  'tokens import': `Usage: openroll tokens import --org <id|slug> --platform ${PLATFORMS.join('|')} <people.csv> [options]
Columns (header row first): email, and optionally displayName, language (${LANGUAGES.join(' ')}),
tags (separated by ";" or ","), policy (a policy id or name). Unknown emails become MDM users.
Rows sharing displayName, language, tags and policy are sent together, --chunk-size at a time,
each chunk with an Idempotency-Key made from the file's content and the chunk's place: running
the same command again after a failure creates nothing twice and fills in the results.
Options:
  --out <file>        the results CSV, one row per input row: line, email, tokenId,
                      enrollmentLink, enrollCode, error (default: <people>.results.csv; - for stdout)
  --send-email        email each person their enrollment link (default: no email)
  --duration <secs>   token lifetime, 60 to 2592000 (default: the server's, 86400)
  --chunk-size <n>    emails per request, 1 to 10000 (default 500)
The key needs mdm.<platform>.enrollmentToken.create and .list (and mdm.<platform>.policy.list
when the file names policies). Exit status: 0 all rows have a token, 1 some do not, 2 bad usage.
${CONNECTION}`,
  'tokens export': `Usage: openroll tokens export --org <id|slug> --platform ${PLATFORMS.join('|')} [options]
Writes one CSV row per token: id, email, displayName, state, tags, enrollmentLink, enrollCode,
expireAt, createdAt, mdmUserId, deviceId, policyIds.
Options:
  --out <file>          where to write (default: standard output)
  --state <a,b>         only these states: PENDING, DONE, DELETED, EXPIRED
  --mdm-user <id>       only the tokens of this MDM user
  --policy <id>         only the tokens with this policy
  --show-deleted        include revoked (DELETED) tokens
  --sort <field[:dir]>  as the list API sorts (default createdAt:asc)
${CONNECTION}`,
};

class UsageError extends Error {}

export interface CommandIo {
  stdout: Writable;
  stderr: Writable & { isTTY?: boolean; columns?: number };
}

const COMMON = { org: { type: 'string' }, platform: { type: 'string' }, url: { type: 'string' }, key: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options: { ...COMMON, ...options }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function required(value: string | undefined, flag: string): string {
  if (!value) throw new UsageError(`missing --${flag}`);
  return value;
}

function platformOf(value: string | undefined): Platform {
  const platform = required(value, 'platform');
  if (!(PLATFORMS as readonly string[]).includes(platform)) throw new UsageError(`--platform must be one of ${PLATFORMS.join(', ')}`);
  return platform as Platform;
}

function integerFlag(value: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw new UsageError(`--${flag} must be an integer from ${min} to ${max}`);
  return n;
}

function connection(values: { url?: string | undefined; key?: string | undefined }, env: NodeJS.ProcessEnv) {
  const baseUrl = values.url ?? env.OPENROLL_URL ?? 'http://localhost:3000';
  if (!/^https?:\/\/[^/]/.test(baseUrl)) throw new UsageError(`the server URL must start with http:// or https://, got "${baseUrl}"`);
  const key = values.key ?? env.OPENROLL_KEY;
  if (!key) throw new UsageError('missing the API key: give --key or set OPENROLL_KEY');
  return createApiClient({ baseUrl, key });
}

async function runImport(args: string[], env: NodeJS.ProcessEnv, io: CommandIo): Promise<number> {
  const { values, positionals } = parse(args, { 'send-email': { type: 'boolean' }, duration: { type: 'string' }, 'chunk-size': { type: 'string' } });
  if (values.help) return help('tokens import', io);
  const file = positionals[0];
  if (!file) throw new UsageError('missing the CSV file');
  const options = {
    org: required(values.org, 'org'),
    platform: platformOf(values.platform),
    sendEmail: values['send-email'] ?? false,
    duration: integerFlag(values.duration, 'duration', 60, 2_592_000),
    chunkSize: integerFlag(values['chunk-size'], 'chunk-size', 1, 10_000) ?? 500,
  };
  const client = connection(values, env);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const out = values.out ?? `${file.replace(/\.csv$/i, '')}.results.csv`;

  const { results, created, failed } = await importTokens({ client, text, progress: io.stderr, ...options });
  const csv = resultsCsv(results);
  if (out === '-') io.stdout.write(csv);
  else writeFileSync(out, csv);
  io.stderr.write(`${results.length} rows: ${created} with a token, ${failed} failed.${out === '-' ? '' : ` Results: ${out}`}\n`);
  return failed > 0 ? 1 : 0;
}

async function runExport(args: string[], env: NodeJS.ProcessEnv, io: CommandIo): Promise<number> {
  const { values } = parse(args, { state: { type: 'string' }, 'mdm-user': { type: 'string' }, policy: { type: 'string' }, 'show-deleted': { type: 'boolean' }, sort: { type: 'string' } });
  if (values.help) return help('tokens export', io);
  let states;
  try {
    states = values.state ? parseStates(values.state) : undefined;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const org = required(values.org, 'org');
  const platform = platformOf(values.platform);
  const client = connection(values, env);
  const out = values.out && values.out !== '-' ? createWriteStream(values.out) : io.stdout;
  const written = await exportTokens({
    client,
    org,
    platform,
    states,
    mdmUserId: values['mdm-user'],
    policyId: values.policy,
    showDeleted: values['show-deleted'] ?? false,
    sort: values.sort ?? 'createdAt:asc',
    out,
    progress: io.stderr,
  });
  io.stderr.write(`${written} tokens exported${values.out && values.out !== '-' ? ` to ${values.out}` : ''}.\n`);
  return 0;
}

function help(command: string, io: CommandIo): number {
  io.stdout.write(`${TOKENS_USAGE[command]}\n`);
  return 0;
}

/** The `tokens` commands; returns the exit status. */
export async function runTokensCommand(argv: string[], env: NodeJS.ProcessEnv, io: CommandIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [sub, ...rest] = argv;
  const command = sub === 'import' || sub === 'export' ? `tokens ${sub}` : 'tokens';
  if (command === 'tokens') {
    if (sub === undefined || sub === '--help' || sub === '-h') return help('tokens', io);
    io.stderr.write(`Unknown command "tokens ${sub}".\n\n${TOKENS_USAGE.tokens}\n`);
    return 2;
  }
  try {
    return command === 'tokens import' ? await runImport(rest, env, io) : await runExport(rest, env, io);
  } catch (error) {
    if (error instanceof UsageError || error instanceof CsvHeaderError || error instanceof CsvError) {
      io.stderr.write(`openroll ${command}: ${error.message}\n\n${TOKENS_USAGE[command]}\n`);
      return 2;
    }
    if (error instanceof StoppedError || error instanceof ApiUnreachableError) {
      io.stderr.write(`openroll ${command}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
