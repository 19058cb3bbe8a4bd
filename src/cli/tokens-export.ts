import type { Writable } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { Platform } from '../platforms/platforms.ts';
import { TOKEN_STATES, type TokenState } from '../modules/enrollment-tokens/token-state.ts';
import type { ApiClient } from './api-client.ts';
import { createProgress, type ProgressSink } from './progress.ts';
import { eachPage } from './tokens-import.ts';

export interface ExportOptions {
  client: ApiClient;
  org: string;
  platform: Platform;
  /** The list's own filters, passed through. */
  mdmUserId?: string | undefined;
  policyId?: string | undefined;
  /** Kept client-side: the list has no state filter (DELETED ones are asked for when wanted). */
  states?: TokenState[] | undefined;
  showDeleted: boolean;
  sort: string;
  out: Writable;
  progress: ProgressSink;
}

interface ListedToken {
  id: string;
  mdmUser: { id: string; email: string } | null;
  displayName: string;
  tags: string[];
  state: TokenState;
  enrollmentLink: string;
  enrollCode: string;
  expireAt: string;
  createdAt: string;
  winDeviceId?: string | null;
  admDevice?: { id: string } | string | null;
  winPolicyAssignments?: Array<{ winPolicy?: { id: string } | null; winPolicyId?: string }>;
  admPolicyAssignments?: Array<{ admPolicy?: { id: string } | null; admPolicyId?: string }>;
}

export const EXPORT_COLUMNS = ['id', 'email', 'displayName', 'state', 'tags', 'enrollmentLink', 'enrollCode', 'expireAt', 'createdAt', 'mdmUserId', 'deviceId', 'policyIds'] as const;

function deviceOf(t: ListedToken): string {
  if (t.winDeviceId) return t.winDeviceId;
  if (typeof t.admDevice === 'string') return t.admDevice;
  return t.admDevice?.id ?? '';
}

function policyIdsOf(t: ListedToken): string {
  const win = (t.winPolicyAssignments ?? []).map((a) => a.winPolicy?.id ?? a.winPolicyId);
  const adm = (t.admPolicyAssignments ?? []).map((a) => a.admPolicy?.id ?? a.admPolicyId);
  return [...win, ...adm].filter(Boolean).join(';');
}

export function parseStates(raw: string): TokenState[] {
  const states = raw.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
  const bad = states.filter((s) => !(TOKEN_STATES as readonly string[]).includes(s));
  if (bad.length) throw new Error(`--state: unknown state ${bad.join(', ')} (states: ${TOKEN_STATES.join(', ')})`);
  return states as TokenState[];
}

/**
 * Writes the organization's tokens of one platform as CSV, page by page (memory stays flat for
 * any number of tokens). Oldest first by default, so tokens created during the export land on
 * later pages instead of shifting the pages still to read.
 */
export async function exportTokens(options: ExportOptions): Promise<number> {
  const { platform } = options;
  const query = new URLSearchParams({ sort: options.sort });
  if (options.mdmUserId) query.set('mdm-user', options.mdmUserId);
  if (options.policyId) query.set(platform === 'windows' ? 'win-policy' : 'adm-policy', options.policyId);
  if (options.showDeleted || options.states?.includes('DELETED')) query.set('show-deleted', 'true');
  const path = `/v1/organizations/${encodeURIComponent(options.org)}/mdm/${platform}/enterprise/enrollment-tokens?${query}`;

  const csv = stringify({ header: true, columns: [...EXPORT_COLUMNS], escape_formulas: true });
  csv.pipe(options.out);
  const progress = createProgress(options.progress, 0, 'tokens');
  let written = 0;
  let read = 0;
  await eachPage<ListedToken>(options.client, path, (items) => {
    read += items.length;
    for (const t of items) {
      if (options.states && !options.states.includes(t.state)) continue;
      csv.write({
        id: t.id,
        email: t.mdmUser?.email ?? '',
        displayName: t.displayName,
        state: t.state,
        tags: t.tags.join(';'),
        enrollmentLink: t.enrollmentLink,
        enrollCode: t.enrollCode,
        expireAt: t.expireAt,
        createdAt: t.createdAt,
        mdmUserId: t.mdmUser?.id ?? '',
        deviceId: deviceOf(t),
        policyIds: policyIdsOf(t),
      });
      written++;
    }
    progress.update(written, `written (${read} read)`);
  });
  progress.finish();
  await new Promise<void>((resolve, reject) => {
    options.out.once('error', reject);
    csv.once('error', reject);
    csv.end();
    // The file (or stdout) has everything once the stringifier's output is flushed into it.
    csv.once('end', () => resolve());
  });
  return written;
}
