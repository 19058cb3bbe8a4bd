import { createHash } from 'node:crypto';
import { stringify } from 'csv-stringify/sync';
import { isId } from '../lib/ids.ts';
import type { Platform } from '../platforms/platforms.ts';
import { apiErrorOf, ApiUnreachableError, describeApiError, type ApiClient } from './api-client.ts';
import { readImportRows, type ImportRow } from './import-rows.ts';
import { createProgress, type ProgressSink } from './progress.ts';

export interface ImportOptions {
  client: ApiClient;
  org: string;
  platform: Platform;
  /** The whole CSV file: its bytes name the chunks' Idempotency-Keys. */
  text: string;
  sendEmail: boolean;
  duration?: number | undefined;
  chunkSize: number;
  progress: ProgressSink;
}

export interface RowResult {
  line: number;
  email: string;
  tokenId?: string;
  enrollmentLink?: string;
  enrollCode?: string;
  error?: string;
}

/** A failure that concerns every row (the key, the organization, a list that cannot be read): the command stops. */
export class StoppedError extends Error {}

interface Chunk {
  index: number;
  rows: ImportRow[];
  body: Record<string, unknown>;
}

const RESULT_COLUMNS = ['line', 'email', 'tokenId', 'enrollmentLink', 'enrollCode', 'error'] as const;

/** The results file: one row per input row, in the input's order; formulas are neutralised for spreadsheets. */
export function resultsCsv(results: RowResult[]): string {
  return stringify(results, { header: true, columns: [...RESULT_COLUMNS], escape_formulas: true });
}

export function chunkKey(text: string, index: number): string {
  return `openroll-import-${createHash('sha256').update(text).digest('hex').slice(0, 32)}-${index}`;
}

/** Reads a list page by page (500 a page) until `onPage` says stop or the pages end. */
export async function eachPage<T>(client: ApiClient, path: string, onPage: (items: T[]) => boolean | void): Promise<void> {
  for (let page = 1; ; page++) {
    const answer = await client.request('GET', `${path}${path.includes('?') ? '&' : '?'}limit=500&page=${page}`);
    if (answer.status !== 200) throw new StoppedError(`listing ${path.split('?')[0]} failed: ${describeApiError(apiErrorOf(answer))}`);
    const data = (answer.body as { data: { items: T[]; hasNextPage: boolean } }).data;
    if (onPage(data.items) === true || !data.hasNextPage) return;
  }
}

/** Policy names become ids (a name must be unique); an id must be one of the platform's policies. */
async function resolvePolicies(client: ApiClient, base: string, platform: Platform, rows: ImportRow[]): Promise<void> {
  const wanted = rows.filter((r) => !r.error && r.policy);
  if (wanted.length === 0) return;
  const policies: Array<{ id: string; name: string }> = [];
  await eachPage<{ id: string; name: string }>(client, `${base}/mdm/${platform}/enterprise/policies`, (items) => void policies.push(...items));
  const ids = new Set(policies.map((p) => p.id));
  const byName = new Map<string, string[]>();
  for (const p of policies) byName.set(p.name, [...(byName.get(p.name) ?? []), p.id]);
  for (const row of wanted) {
    const policy = row.policy!;
    if (isId(policy) && ids.has(policy.toLowerCase())) row.policy = policy.toLowerCase();
    else if (byName.get(policy)?.length === 1) row.policy = byName.get(policy)![0];
    else if (byName.has(policy)) row.error = `policy "${policy}" names ${byName.get(policy)!.length} ${platform} policies: use its id`;
    else row.error = `no ${platform} policy "${policy}"`;
  }
}

/**
 * Rows that share displayName, language, tags and policy go in one bulk request (the bulk body
 * gives those fields to every email), at most chunkSize emails each, in the order they first
 * appear: the same file always makes the same chunks, so each chunk's Idempotency-Key (the
 * file's digest and the chunk's index) makes a rerun return the first answers and create nothing.
 */
function chunksOf(rows: ImportRow[], options: ImportOptions): Chunk[] {
  const groups = new Map<string, ImportRow[]>();
  for (const row of rows) {
    if (row.error) continue;
    const key = JSON.stringify([row.displayName ?? null, row.language ?? null, row.tags ?? null, row.policy ?? null]);
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  const chunks: Chunk[] = [];
  for (const group of groups.values()) {
    for (let i = 0; i < group.length; i += options.chunkSize) {
      const part = group.slice(i, i + options.chunkSize);
      const { displayName, language, tags, policy } = part[0]!;
      chunks.push({
        index: chunks.length,
        rows: part,
        body: {
          userEmails: part.map((r) => r.email),
          sendEmail: options.sendEmail,
          ...(displayName !== undefined ? { displayName } : {}),
          ...(language !== undefined ? { language } : {}),
          ...(tags !== undefined ? { tags } : {}),
          ...(policy !== undefined ? { [options.platform === 'windows' ? 'winPolicyId' : 'policyId']: policy } : {}),
          ...(options.duration !== undefined ? { duration: options.duration } : {}),
        },
      });
    }
  }
  return chunks;
}

export async function importTokens(options: ImportOptions): Promise<{ results: RowResult[]; created: number; failed: number }> {
  const { client, platform } = options;
  const base = `/v1/organizations/${encodeURIComponent(options.org)}`;
  const tokensPath = `${base}/mdm/${platform}/enterprise/enrollment-tokens`;
  const rows = readImportRows(options.text);
  const results = new Map<ImportRow, RowResult>(rows.map((r) => [r, { line: r.line, email: r.email }]));

  // The key and the organization are checked once, before anything is sent.
  const preflight = await client.request('GET', `${tokensPath}?limit=1`);
  if (preflight.status !== 200) throw new StoppedError(`the server refused to list ${platform} tokens of "${options.org}": ${describeApiError(apiErrorOf(preflight))}`);
  await resolvePolicies(client, base, platform, rows);

  const chunks = chunksOf(rows, options);
  const progress = createProgress(options.progress, rows.length, 'rows');
  let done = rows.filter((r) => r.error).length;
  let created = 0;
  const failed = () => [...results.values()].filter((r) => r.error !== undefined).length;
  for (const row of rows) if (row.error) results.get(row)!.error = row.error;
  progress.update(done, `· ${created} tokens · ${failed()} failed`);

  let stopped: string | undefined;
  for (const chunk of chunks) {
    if (stopped) {
      for (const row of chunk.rows) results.get(row)!.error = `not sent: ${stopped}`;
      continue;
    }
    let answer;
    try {
      answer = await client.request('POST', `${tokensPath}/bulk`, chunk.body, { 'idempotency-key': chunkKey(options.text, chunk.index) });
    } catch (error) {
      if (!(error instanceof ApiUnreachableError)) throw error;
      stopped = `${error.message}; run the same command again to resume (nothing is created twice)`;
      for (const row of chunk.rows) results.get(row)!.error = `not sent: ${stopped}`;
      continue;
    }
    if (answer.status === 200) {
      const entries = (answer.body as { data: { results: Array<{ tokenId?: string; error?: { code: number; message: string } }> } }).data.results;
      chunk.rows.forEach((row, i) => {
        const entry = entries[i];
        if (entry?.tokenId) {
          results.get(row)!.tokenId = entry.tokenId;
          created++;
        } else results.get(row)!.error = entry?.error ? `${entry.error.code} ${entry.error.message}` : 'no result for this email';
      });
    } else {
      const error = apiErrorOf(answer);
      const text = answer.status === 409 ? `${describeApiError(error)} (this chunk of the file was sent before with other options)` : describeApiError(error);
      for (const row of chunk.rows) results.get(row)!.error = text;
      // A key revoked or stripped of its permission mid-way fails every later chunk alike.
      if (answer.status === 401 || answer.status === 403) stopped = describeApiError(error);
    }
    done += chunk.rows.length;
    progress.update(done, `· ${created} tokens · ${failed()} failed · chunk ${chunk.index + 1}/${chunks.length}`);
  }
  progress.finish();

  // The bulk answer has ids only: the link and code come from the list, newest first, until every token is found.
  const wanted = new Map([...results.values()].filter((r) => r.tokenId).map((r) => [r.tokenId!, r]));
  if (wanted.size > 0 && !stopped) {
    let found = 0;
    await eachPage<{ id: string; enrollmentLink: string; enrollCode: string }>(client, `${tokensPath}?show-deleted=true&sort=createdAt:desc`, (items) => {
      for (const t of items) {
        const result = wanted.get(t.id);
        if (result && result.enrollCode === undefined) {
          result.enrollmentLink = t.enrollmentLink;
          result.enrollCode = t.enrollCode;
          found++;
        }
      }
      return found === wanted.size;
    });
  }
  const ordered = [...results.values()].sort((a, b) => a.line - b.line);
  return { results: ordered, created, failed: failed() };
}
