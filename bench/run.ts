/**
 * `npm run bench [-- --quick] [-- --only=postgres|pglite]`: loads the dataset into PostgreSQL
 * and into PGlite, starts Openroll on each, drives it from this process with autocannon, and
 * writes bench/results.json and bench/RESULTS.md. See bench/README.md.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { openDatabase } from '../src/db/client.ts';
import { runMigrations } from '../src/db/migrate.ts';
import { startThrowawayPostgres } from '../scripts/throwaway-postgres.mjs';
import { loadConfig } from '../src/config.ts';
import { createContainer } from '../src/container.ts';
import { systemClock } from '../src/lib/clock.ts';
import { FULL, QUICK, loadDataset, type Dataset } from './dataset.ts';
import { seedAppleFleet, seedWindowsFleet } from './device-fleet.ts';
import { deviceCounts, deviceServerSetup, runDeviceScenarios, WIFI } from './devices.ts';
import { startHealthzProbe } from './healthz-probe.ts';
import { runLoad } from './load.ts';
import { renderReport, type DatabaseResult, type Results, type ScenarioResult } from './report.ts';
import { serverCommand, startBenchServer, type BenchServer } from './server-process.ts';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, only: { type: 'string' }, devices: { type: 'boolean', default: false } } });
const quick = values.quick ?? false;
/** `--devices`: only the device scenarios (with the ceiling), over a small token dataset. */
const devicesOnly = values.devices ?? false;
const spec = devicesOnly ? { ...QUICK, largeOrgTokens: 10_000, otherTokens: 10_000 } : quick ? QUICK : FULL;
const timing = quick ? { warmup: 1, seconds: 3 } : { warmup: 3, seconds: 10 };
const CONNECTIONS = 32;
const log = (line: string) => console.log(line);

interface Target {
  kind: 'postgres' | 'pglite';
  description: string;
  env: Record<string, string>;
  /** Opens the database for loading (the server opens its own). */
  open: () => ReturnType<typeof openDatabase>;
  url?: string;
  cleanup: () => Promise<void>;
}

/**
 * One server key per target, for the loader and the server alike: API keys carry a check sealed
 * with it (src/auth/credential-check.ts), so a server with another key refuses the loader's keys.
 */
const newServerKey = () => randomBytes(32).toString('base64');

async function postgresTarget(): Promise<Target> {
  let url = process.env.BENCH_DATABASE_URL ?? '';
  let stop = async () => {};
  let version = 'external';
  if (url === '') {
    // PostgreSQL's default durability: commits are fsynced, as in production.
    const server = await startThrowawayPostgres({ durable: true, log: (m: string) => log(`  [postgres] ${m}`) });
    if (!server.ok) throw new Error(`no PostgreSQL for the benchmark: ${server.reason}`);
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query('create database openroll_bench');
    await admin.end();
    url = server.url.replace(/\/postgres$/, '/openroll_bench');
    version = server.version;
    stop = server.stop;
  }
  return {
    kind: 'postgres',
    description: `PostgreSQL ${version}`,
    env: { DATABASE_URL: url, DATABASE_POOL_SIZE: '20', OPENROLL_SECRET_KEY: newServerKey() },
    open: () => openDatabase({ databaseUrl: url, dataDir: '', poolSize: 4 }),
    url,
    cleanup: stop,
  };
}

async function pgliteTarget(): Promise<Target> {
  const dir = mkdtempSync(join(os.tmpdir(), 'openroll-bench-pglite-'));
  return {
    kind: 'pglite',
    description: 'PGlite (embedded)',
    env: { DATA_DIR: dir, OPENROLL_SECRET_KEY: newServerKey() },
    open: () => openDatabase({ databaseUrl: undefined, dataDir: dir }),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Ids to spread requests over: users, policies and tokens of the large organization. */
async function sampleIds(target: Target, dataset: Dataset) {
  const database = await target.open();
  const ids = async (query: string) => ((await database.db.execute(sql.raw(query))) as unknown as { rows: Array<{ id: string }> }).rows.map((r) => r.id);
  const org = dataset.large.id;
  try {
    return {
      users: await ids(`select id from mdm_users where organization_id = '${org}' order by id limit 200`),
      policies: await ids(`select id from policies where organization_id = '${org}' and platform = 'windows' order by id`),
      tokens: await ids(`select id from enrollment_tokens where organization_id = '${org}' and platform = 'windows' order by id limit 1000`),
    };
  } finally {
    await database.close();
  }
}

async function measure(target: Target): Promise<DatabaseResult> {
  log(`\n== ${target.description} ==`);
  const loading = await target.open();
  await runMigrations(loading);
  const dataset = await loadDataset(loading, target.env, spec, log);
  // The device fleets, in organizations of their own (the server holds PGlite's directory once it runs).
  const counts = deviceCounts(target.kind, quick);
  const setup = await deviceServerSetup();
  const seeding = createContainer({ config: loadConfig({ ...target.env, LOG_LEVEL: 'silent' }), database: loading, clock: systemClock });
  const windowsFleet = await seedWindowsFleet(seeding, dataset.others[1]!, counts.windows);
  log(`  seeded ${counts.windows.toLocaleString('en')} enrolled Windows PCs with 5 queued commands each in ${windowsFleet.seconds.toFixed(1)} s`);
  const appleFleet = await seedAppleFleet(seeding, dataset.others[2]!, counts.apple, { topic: setup.push.topic, profile: WIFI });
  log(`  seeded ${counts.apple.toLocaleString('en')} enrolled Apple devices with 2 queued commands each in ${appleFleet.seconds.toFixed(1)} s`);
  await loading.db.execute(sql.raw('vacuum analyze'));
  await loading.close();
  log(`  loaded ${dataset.rows.toLocaleString('en')} rows in ${dataset.seconds.toFixed(1)} s (${dataset.rowsPerSecond.toLocaleString('en')} rows/s)`);
  const ids = await sampleIds(target, dataset);

  const ceilingFile = join(os.tmpdir(), `openroll-bench-ceiling-${process.pid}.json`);
  const server: BenchServer = await startBenchServer(serverCommand(log), {
    ...target.env,
    BENCH_CEILING_FILE: ceilingFile,
    // The load comes from one key with 32 connections: the per-key limits (a fair share for
    // many callers) are off, so the figures are the server's capacity.
    RATE_LIMIT_PER_MINUTE: '0',
    MAX_CONCURRENT_REQUESTS_PER_KEY: '0',
    EXPIRY_SWEEP_SECONDS: '86400',
    // The device certificate as a TLS-terminating proxy on loopback forwards it; APNs on loopback.
    ...setup.env,
  });
  const headers = { authorization: `Bearer ${dataset.large.key}`, 'content-type': 'application/json' };
  const base = `/v1/organizations/${dataset.large.id}/mdm/windows/enterprise/enrollment-tokens`;
  try {
    const first = await fetch(`${server.url}${base}`, { headers });
    const page = await first.text();
    writeFileSync(ceilingFile, page);
    // The floor must answer the very page the list does (fields, their order, items, totalDocs).
    const floorPath = `/bench/floor/${dataset.large.id}`;
    const floorPage = await (await fetch(`${server.url}${floorPath}`)).text();
    if (JSON.stringify(JSON.parse(floorPage)) !== JSON.stringify(JSON.parse(page))) {
      throw new Error(`the floor's page differs from the list's:\nlist:  ${page.slice(0, 2000)}\nfloor: ${floorPage.slice(0, 2000)}`);
    }

    let listPeak = 0;
    const sampler = setInterval(() => (listPeak = Math.max(listPeak, server.rssMb())), 100);
    const scenario = async (name: string, paths: string[], extra: { method?: 'POST'; bodies?: string[]; list?: boolean } = {}): Promise<ScenarioResult> => {
      const run = (seconds: number) =>
        runLoad({ url: server.url, paths, headers, connections: CONNECTIONS, seconds, ...(extra.method ? { method: extra.method } : {}), ...(extra.bodies ? { bodies: extra.bodies } : {}) });
      await run(timing.warmup);
      // The event loop's freedom while the scenario runs: /healthz from its own thread.
      const probe = startHealthzProbe(server.url);
      const r = await run(timing.seconds);
      const healthz = await probe.stop();
      const faults = r.non2xx || r.errors ? `  (${r.non2xx} non-2xx, ${r.errors} errors)` : '';
      log(`  ${name.padEnd(34)} ${String(r.rps).padStart(6)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  /healthz p99 ${healthz.p99} ms${faults}`);
      return { name, ...r, healthz };
    };
    // Page 10,000 of the full dataset; a quick run's organization has fewer pages, and a page past
    // the end would measure a walk to the end with nothing to answer: its deepest page of nine tenths.
    const deepPage = Math.min(10_000, Math.floor((spec.largeOrgTokens * 0.9) / 25));
    // The server's own warm-up, before anything is measured: the pool growing to its size, each
    // new PostgreSQL backend loading its catalog caches, the JIT on the authenticated path.
    // Without it the first authenticated scenario paid for all of that: list page 1 served 191
    // req/s when it ran first and 288 when run again after the other lists (2026-11-30).
    await runLoad({ url: server.url, paths: [base, `${base}?sort=displayName:asc`, ...ids.tokens.slice(0, 50).map((t) => `${base}/${t}`)], headers, connections: CONNECTIONS, seconds: timing.warmup * 3 });
    const ceiling = await scenario('ceiling (pre-built page)', ['/bench/ceiling']);
    const devices = () => runDeviceScenarios({ server, windows: windowsFleet, apple: appleFleet, setup, ceilingRps: ceiling.rps, concurrency: CONNECTIONS, log });
    const loadFigures = { rows: dataset.rows, tokens: spec.largeOrgTokens + spec.otherTokens, seconds: Number(dataset.seconds.toFixed(1)), rowsPerSecond: dataset.rowsPerSecond };
    if (devicesOnly) {
      clearInterval(sampler);
      return { database: target.description, kind: target.kind, load: loadFigures, ceiling, scenarios: [], devices: await devices(), memory: { listPeakMb: 0, processPeakMb: Math.round(server.peakMb()) } };
    }
    const floor = await scenario('floor (one SQL statement)', [floorPath]);
    const lists: ScenarioResult[] = [
      await scenario('list page 1', [base]),
      await scenario('list filtered by mdm-user', ids.users.map((u) => `${base}?mdm-user=${u}`)),
      await scenario('list by win-policy, show-deleted', ids.policies.map((p) => `${base}?win-policy=${p}&show-deleted=true`)),
      await scenario('list sorted displayName:asc', [`${base}?sort=displayName:asc`]),
      await scenario(`deep page ${deepPage.toLocaleString('en-US')} (limit 25)`, [`${base}?page=${deepPage}&limit=25`]),
    ];
    clearInterval(sampler);
    const ratio = (s: ScenarioResult, to: ScenarioResult) => Number((s.rps / to.rps).toFixed(2));
    const scenarios: ScenarioResult[] = lists.map((s) => ({ ...s, floorRatio: ratio(s, floor) }));
    scenarios.push(await scenario('get by id', ids.tokens.map((t) => `${base}/${t}`)));
    scenarios.push(
      await scenario('create one token', [base], { method: 'POST', bodies: ids.users.map((u) => JSON.stringify({ mdmUserId: u, sendEmail: false })) }),
    );

    // Issue 14's bulk of 10,000 new emails, timed alone.
    const bulkOf = (prefix: string) =>
      fetch(`${server.url}${base}/bulk`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ sendEmail: true, userEmails: Array.from({ length: 10_000 }, (_, i) => `${prefix}${i}@bulk.${dataset.large.slug}.example`) }),
      });
    const started = performance.now();
    const bulk = await bulkOf('bulk');
    const bulkBody = (await bulk.json()) as { data?: { success: number } };
    const bulkMs = Math.round(performance.now() - started);
    log(`  bulk of 10,000 emails: ${bulkMs} ms (${bulkBody.data?.success ?? 0} created, HTTP ${bulk.status})`);

    // Issue 10's load, during a second bulk: six loops of the slow user search (128 × 'İ') in the
    // large organization, /healthz from its own thread, and a small GET of another organization.
    let bulkDone = false;
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const searchPath = `/v1/organizations/${dataset.large.id}/mdm/users?search=${encodeURIComponent('İ'.repeat(128))}`;
    let searches = 0;
    const searchLoops = Array.from({ length: 6 }, async () => {
      for (; !bulkDone; searches++) await (await fetch(`${server.url}${searchPath}`, { headers })).arrayBuffer();
    });
    const other = dataset.others[0]!;
    const otherMs: number[] = [];
    const otherLoop = (async () => {
      while (!bulkDone) {
        const t = performance.now();
        await (await fetch(`${server.url}/v1/organizations/${other.id}/mdm/users`, { headers: { authorization: `Bearer ${other.key}` } })).arrayBuffer();
        otherMs.push(performance.now() - t);
        await pause(200);
      }
    })();
    const hostageProbe = startHealthzProbe(server.url, 50);
    const loadedStart = performance.now();
    const loaded = await bulkOf('loaded');
    const loadedCreated = ((await loaded.json()) as { data?: { success: number } }).data?.success ?? 0;
    const loadedMs = Math.round(performance.now() - loadedStart);
    bulkDone = true;
    const hostageHealthz = await hostageProbe.stop();
    await Promise.all([...searchLoops, otherLoop]);
    const noHostage = { bulkMs: loadedMs, searches, healthz: hostageHealthz, otherOrgMaxMs: Math.round(Math.max(0, ...otherMs)), otherOrgSamples: otherMs.length };
    log(`  a second bulk under issue 10's load: ${loadedMs} ms (${loadedCreated} created, HTTP ${loaded.status})`);
    log(`  meanwhile: ${searches} slow searches; /healthz p50 ${hostageHealthz.p50} ms max ${hostageHealthz.max} ms; another organization max ${noHostage.otherOrgMaxMs} ms`);

    // Issue 24 item 6, issue 25 item 7: the enrolled fleets, last (their writes touch nothing the lists read).
    const deviceResults = await devices();

    return {
      database: target.description,
      kind: target.kind,
      load: loadFigures,
      ceiling,
      floor: { ...floor, ratio: ratio(floor, ceiling) },
      scenarios: scenarios.map((s) => ({ ...s, ratio: ratio(s, ceiling) })),
      bulk10k: { ms: bulkMs, created: bulkBody.data?.success ?? 0 },
      noHostage,
      devices: deviceResults,
      memory: { listPeakMb: Math.round(listPeak), processPeakMb: Math.round(server.peakMb()) },
    };
  } finally {
    await server.stop();
    await setup.close();
    rmSync(ceilingFile, { force: true });
  }
}

const started = performance.now();
const results: Results = {
  date: new Date().toISOString(),
  mode: quick ? 'quick' : 'full',
  ...(devicesOnly ? { only: 'devices' as const } : {}),
  machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', memoryGb: Math.round(os.totalmem() / 2 ** 30), node: process.version, os: `${os.type()} ${os.release()}` },
  load: { connections: CONNECTIONS, warmupSeconds: timing.warmup, seconds: timing.seconds, generator: 'autocannon, in a separate process from the server' },
  databases: [],
};
for (const make of [postgresTarget, pgliteTarget]) {
  if (values.only && !make.name.startsWith(values.only)) continue;
  const target = await make();
  try {
    results.databases.push(await measure(target));
  } finally {
    await target.cleanup();
  }
}
results.durationSeconds = Math.round((performance.now() - started) / 1000);
const outDir = new URL('./', import.meta.url);
// A devices-only run keeps the full run's files: its own are results.devices.json and RESULTS.devices.md.
const suffix = devicesOnly ? '.devices' : '';
writeFileSync(new URL(`results${suffix}.json`, outDir), `${JSON.stringify(results, null, 2)}\n`);
const report = renderReport(results);
writeFileSync(new URL(`RESULTS${suffix}.md`, outDir), report);
console.log(`\n${report}`);
console.log(`bench: done in ${results.durationSeconds} s; wrote bench/results${suffix}.json and bench/RESULTS${suffix}.md`);
