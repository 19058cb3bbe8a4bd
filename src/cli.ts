import { parseArgs, type ParseArgsConfig } from 'node:util';
import { buildApp } from './app.ts';
import { mintApiKey } from './auth/api-key-credentials.ts';
import { ConfigError, deviceSessionNotice, loadConfig, type Config } from './config.ts';
import { createContainer, type Container } from './container.ts';
import { BackupError, restoreBackup, writeBackup } from './db/backup.ts';
import { DataDirBusyError, openDatabase } from './db/client.ts';
import { runMigrations } from './db/migrate.ts';
import { AppError } from './errors.ts';
import { systemClock } from './lib/clock.ts';
import { createCapturedEmailsRepo } from './mail/captured.repo.ts';
import { createApiKeysRepo } from './modules/api-keys/api-keys.repo.ts';
import { checkNewKey, liveAdminKeys, toApiKeyView } from './modules/api-keys/api-keys.service.ts';
import { PLANS } from './modules/organizations/plans.ts';
import { ROLES, type Role } from './permissions.ts';
import { closeOnSignals, startServer } from './server.ts';
import { ensureConsoleBuilt } from './console/console-build.ts';
import { runTokensCommand } from './cli/tokens-csv.ts';

const USAGE: Record<string, string> = {
  main: `Usage: openroll <command> [options]

Commands:
  serve                      start the API server (what npm start runs)
  migrate                    apply the database migrations
  org create                 create an organization and its first admin key
  key create | list | revoke manage API keys
  mail list | show           read the emails captured when no SMTP_URL is set
  backup <file>              write a copy of the whole database to a file
  restore <file>             load a backup into an empty database
  tokens import | export     tokens from and to CSV, through a server's HTTP API
  openapi                    print the OpenAPI document
Run "openroll <command> --help" for the options of a command.
Configuration comes from the environment: PORT, HOST, DATABASE_URL, DATA_DIR, PUBLIC_URL, LOG_LEVEL.`,
  serve: `Usage: openroll serve
Starts the API. On an empty database it creates a "demo" organization and prints an admin key.`,
  migrate: `Usage: openroll migrate
Applies the committed SQL migrations to DATABASE_URL (or the embedded database in DATA_DIR).`,
  'org create': `Usage: openroll org create --slug <slug> --name <name> [--plan ${Object.keys(PLANS).join('|')}] [--language en]
Creates an organization with its Windows and Apple enterprises and prints its id and a first
admin key. The key is shown once: store it now.`,
  'key create': `Usage: openroll key create --org <id|slug> --name <name> (--role ${ROLES.join('|')} | --permissions a,b) [--expires <ISO date | 30d>]
Creates an API key and prints it once.`,
  'key list': `Usage: openroll key list --org <id|slug>
Lists the organization's API keys (prefixes only; secrets are never stored).`,
  'key revoke': `Usage: openroll key revoke --org <id|slug> <key id>
Revokes a key: it answers 401 4004 from then on. Unlike the API, this also revokes an
organization's last admin key (with a warning).`,
  'mail list': `Usage: openroll mail list [--org <id|slug>] [--limit 50]
Lists the enrollment emails captured in the database (used when no SMTP_URL is set), newest first.`,
  'mail show': `Usage: openroll mail show <id>
Prints one captured email: the whole message, headers and body, exactly as it would be sent.`,
  backup: `Usage: openroll backup <file>
Writes a consistent copy of the database (DATABASE_URL, or the embedded one in DATA_DIR) to
<file>, one JSON line per row. Safe while the server runs: on the embedded database, requests
wait while the copy is read.`,
  restore: `Usage: openroll restore <file>
Loads a backup into an empty database: DATABASE_URL (this is how to move from the embedded
database to PostgreSQL), or the embedded one in DATA_DIR while no server runs on it. All of it
is loaded, or nothing.`,
  openapi: `Usage: openroll openapi
Prints the OpenAPI 3.1 document generated from the route schemas.`,
};

class UsageError extends Error {}

function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function required(value: string | boolean | undefined, flag: string): string {
  if (typeof value !== 'string' || value === '') throw new UsageError(`missing --${flag}`);
  return value;
}

/**
 * Runs a command on the database. While a server owns the embedded database, the command goes
 * through that server's socket and takes effect there at once; otherwise it opens the directory
 * itself, holding the same lock a server would.
 */
async function withContainer<T>(config: Config, command: string, fn: (container: Container) => Promise<T>): Promise<T> {
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: 2,
    statementTimeoutMs: config.writeStatementTimeoutMs,
    command: `openroll ${command}`,
  });
  try {
    await runMigrations(database);
    return await fn(createContainer({ config, database, clock: systemClock }));
  } finally {
    await database.close();
  }
}

async function orgOrFail(container: Container, idOrSlug: string) {
  const org = await container.organizations.find(idOrSlug);
  if (!org) throw new UsageError(`no organization "${idOrSlug}"`);
  return org;
}

function parseExpiry(raw: string | undefined): Date | undefined {
  if (raw === undefined) return undefined;
  const days = /^(\d+)d$/.exec(raw);
  if (days) return new Date(Date.now() + Number(days[1]) * 86_400_000);
  const date = new Date(raw);
  if (Number.isNaN(date.getTime())) throw new UsageError(`--expires must be an ISO date or a number of days like 30d, got "${raw}"`);
  return date;
}

export function curlExample(publicUrl: string, org: string, key: string): string {
  return `curl -s ${publicUrl}/v1/organizations/${org}/mdm/windows/enterprise/enrollment-tokens -H "Authorization: Bearer ${key}"`;
}

async function serve(config: Config): Promise<void> {
  await ensureConsoleBuilt((line) => console.log(line));
  const server = await startServer(config);
  closeOnSignals(server);
  const { container } = server;
  console.log(`Openroll is listening on ${server.url} (database: ${server.database.description}).`);
  console.log(`Admin console: ${server.url}/console/ (sign in with an API key)`);
  console.log(`API reference: ${server.url}/docs`);
  console.log(`Enrollment links start with ${container.config.publicUrl}${container.config.publicUrlFromListen ? ' (set PUBLIC_URL to the address users reach)' : ''}.`);
  console.log(`Email: ${container.mailer.description}.`);
  console.log(deviceSessionNotice(container.config).message);
  if (await container.organizations.isEmpty()) {
    const { organization, adminKey } = await container.organizations.create({ slug: 'demo', name: 'Demo organization' });
    console.log('');
    console.log(`The database was empty, so a "${organization.slug}" organization was created (id ${organization.id}).`);
    console.log(`Its admin API key, shown only now: ${adminKey}`);
    console.log('Try it:');
    console.log(`  ${curlExample(server.url, organization.slug, adminKey)}`);
  }
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [first, second] = argv;
  // CSV in and out talk to a server over HTTP and need no database: their own file.
  if (first === 'tokens') return runTokensCommand(argv.slice(1), env);
  const command = first === 'org' || first === 'key' || first === 'mail' ? `${first} ${second ?? ''}`.trim() : (first ?? 'help');
  const rest = argv.slice(command.split(' ').length);
  if (command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE.main);
    return 0;
  }
  if (!USAGE[command]) {
    console.error(`Unknown command "${command}".\n\n${USAGE.main}`);
    return 2;
  }
  try {
    const config = loadConfig(env);
    return await run(command, rest, config);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`openroll ${command}: ${error.message}\n\n${USAGE[command]}`);
      return 2;
    }
    if (error instanceof BackupError) {
      console.error(`openroll ${command}: ${error.message}`);
      return 1;
    }
    if (error instanceof DataDirBusyError) {
      console.error(`openroll ${command}: ${error.message}`);
      return 1;
    }
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 2;
    }
    if (error instanceof AppError) {
      const details = (error.data?.errors ?? []).map((e) => `${e.path} ${e.message}`).join('; ');
      console.error(`openroll ${command}: ${error.message}${details ? `: ${details}` : ''}`);
      return 1;
    }
    throw error;
  }
}

async function run(command: string, args: string[], config: Config): Promise<number> {
  switch (command) {
    case 'serve': {
      const { values } = parse(args, {});
      if (values.help) return help(command);
      await serve(config);
      return -1; // keeps running
    }
    case 'migrate': {
      const { values } = parse(args, {});
      if (values.help) return help(command);
      await withContainer(config, command, async ({ database }) => console.log(`Migrations applied to ${database.description}.`));
      return 0;
    }
    case 'org create': {
      const { values } = parse(args, { slug: { type: 'string' }, name: { type: 'string' }, plan: { type: 'string' }, language: { type: 'string' } });
      if (values.help) return help(command);
      const input = { slug: required(values.slug, 'slug'), name: required(values.name, 'name'), plan: values.plan, language: values.language };
      await withContainer(config, command, async (container) => {
        const { organization, adminKey } = await container.organizations.create(input);
        console.log(`Organization ${organization.slug} created.`);
        console.log(`  id:        ${organization.id}`);
        console.log(`  plan:      ${organization.planName} (${organization.planPlatforms.join(', ')})`);
        console.log(`  admin key: ${adminKey}`);
        console.log('The key is shown only now: store it somewhere safe.');
      });
      return 0;
    }
    case 'key create': {
      const { values } = parse(args, {
        org: { type: 'string' },
        name: { type: 'string' },
        role: { type: 'string' },
        permissions: { type: 'string' },
        expires: { type: 'string' },
      });
      if (values.help) return help(command);
      const role = values.role;
      if (role !== undefined && !(ROLES as readonly string[]).includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
      const permissions = values.permissions?.split(',').map((p) => p.trim()).filter(Boolean);
      if (!role && !permissions) throw new UsageError('give --role or --permissions');
      const input = { name: required(values.name, 'name'), role: role as Role | undefined, permissions, expiresAt: parseExpiry(values.expires) };
      await withContainer(config, command, async (container) => {
        const org = await orgOrFail(container, required(values.org, 'org'));
        const now = container.clock.now();
        checkNewKey(input, now);
        const { secret, row } = mintApiKey(org.id, input, now, container.credentialCheck);
        await createApiKeysRepo(container.database.db).insert(row);
        console.log(`Key "${row.name}" (${row.id}) created for ${org.slug}: ${secret}`);
        console.log('The key is shown only now: store it somewhere safe.');
      });
      return 0;
    }
    case 'key list': {
      const { values } = parse(args, { org: { type: 'string' } });
      if (values.help) return help(command);
      await withContainer(config, command, async (container) => {
        const org = await orgOrFail(container, required(values.org, 'org'));
        const { items } = await createApiKeysRepo(container.database.db).list(org.id, { page: 1, limit: 10_000 });
        console.log(['id', 'name', 'prefix', 'access', 'expires', 'revoked'].join('\t'));
        for (const key of items.map(toApiKeyView)) {
          console.log([key.id, key.name, `${key.prefix}…`, key.role ?? key.permissions.join(','), key.expiresAt ?? '-', key.revokedAt ?? '-'].join('\t'));
        }
      });
      return 0;
    }
    case 'key revoke': {
      const { values, positionals } = parse(args, { org: { type: 'string' } });
      if (values.help) return help(command);
      const id = positionals[0];
      if (!id) throw new UsageError('missing the key id');
      await withContainer(config, command, async (container) => {
        const org = await orgOrFail(container, required(values.org, 'org'));
        const now = container.clock.now();
        const row = await createApiKeysRepo(container.database.db).revoke(org.id, id.toLowerCase(), now);
        if (!row) throw new UsageError(`no key ${id} in ${org.slug}`);
        console.log(`Key ${row.id} revoked.`);
        // The API refuses this (409); the operator may, but should know what it leaves.
        if ((await liveAdminKeys(container.database.db, org.id, now)).length === 0) {
          console.error(`Warning: ${org.slug} has no admin key left; nobody can manage its keys through the API.`);
          console.error(`Create one with: openroll key create --org ${org.slug} --name admin --role admin`);
        }
      });
      return 0;
    }
    case 'mail list': {
      const { values } = parse(args, { org: { type: 'string' }, limit: { type: 'string' } });
      if (values.help) return help(command);
      const limit = Number(values.limit ?? 50);
      if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive integer');
      await withContainer(config, command, async (container) => {
        const org = values.org ? await orgOrFail(container, values.org) : undefined;
        const rows = await createCapturedEmailsRepo(container.database.db).list({ organizationId: org?.id, limit });
        if (rows.length === 0) console.log('No captured emails.');
        else console.log(['id', 'created', 'to', 'subject'].join('\t'));
        for (const m of rows) console.log([m.id, m.createdAt.toISOString(), m.recipient, m.subject].join('\t'));
      });
      return 0;
    }
    case 'mail show': {
      const { values, positionals } = parse(args, {});
      if (values.help) return help(command);
      const id = positionals[0];
      if (!id) throw new UsageError('missing the email id');
      await withContainer(config, command, async (container) => {
        const row = await createCapturedEmailsRepo(container.database.db).get(id);
        if (!row) throw new UsageError(`no captured email ${id}`);
        console.log(row.raw);
      });
      return 0;
    }
    case 'backup':
    case 'restore': {
      const { values, positionals } = parse(args, {});
      if (values.help) return help(command);
      const file = positionals[0];
      if (!file) throw new UsageError('missing the file');
      await withContainer(config, command, async ({ database }) => {
        if (command === 'backup') {
          const { tables, rows } = await writeBackup(database, file);
          console.log(`Backup of ${database.description} written to ${file}: ${rows} rows in ${tables} tables.`);
          return;
        }
        if (database.owner) {
          throw new BackupError(`process ${database.owner.pid} (${database.owner.command}) is using the embedded database: stop it first, restore replaces its data`);
        }
        const { tables, rows } = await restoreBackup(database, file);
        console.log(`Restored ${file} into ${database.description}: ${rows} rows in ${tables} tables.`);
      });
      return 0;
    }
    case 'openapi': {
      const { values } = parse(args, {});
      if (values.help) return help(command);
      const database = await openDatabase({ databaseUrl: undefined, dataDir: 'memory://' });
      try {
        const app = await buildApp({ container: createContainer({ config, database, clock: systemClock }) });
        await app.ready();
        console.log(JSON.stringify(app.swagger(), null, 2));
        await app.close();
      } finally {
        await database.close();
      }
      return 0;
    }
    default:
      return help('main');
  }
}

function help(command: string): number {
  console.log(USAGE[command]);
  return 0;
}
