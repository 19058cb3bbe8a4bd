import type { Database, Executor } from '../../db/client.ts';
import { AppError, notFound } from '../../errors.ts';
import type { Clock } from '../../lib/clock.ts';
import { newId } from '../../lib/ids.ts';
import { checkMobileconfigs } from '../../lib/mobileconfig.ts';
import { NEWEST_FIRST } from '../../lib/listing.ts';
import { parseSort, toPage, type Page, type PageRequest } from '../../lib/pagination.ts';
import type { Platform } from '../../platforms/platforms.ts';
import type { AuthContext } from '../../auth/auth-context.ts';
import { createEnterprisesRepo } from '../enterprises/enterprises.repo.ts';
import { createPoliciesRepo } from './policies.repo.ts';
import { POLICY_SORT_FIELDS, type AdmPolicyInput, type PolicyView, type WinPolicyInput } from './policies.schemas.ts';
import { POLICY_DETAIL_DEFAULTS, toPolicyView, type PolicyRecord } from './policies.views.ts';
import { toStoredSettings, type WinSettingView } from './win-settings.ts';

/** A validated body of either platform; only the platform's own fields are present. */
export type PolicyInput = WinPolicyInput | AdmPolicyInput;

/** A JSON object from a validated body (the schema's `object` type says no more than that). */
const asRecord = (value: object | undefined) => value as Record<string, unknown> | undefined;

export interface PolicyQuery extends PageRequest {
  sort?: string | undefined;
}

/** Ids inside the body are accepted in either case and stored lower-cased, as path ids are. */
function lowerIds(value: unknown, key: string): unknown {
  if (!Array.isArray(value)) return value;
  return value.map((item: Record<string, unknown>) => (typeof item[key] === 'string' ? { ...item, [key]: item[key].toLowerCase() } : item));
}

const ID_KEYS: Record<string, string> = { applications: 'winApplicationId', admxConfigs: 'winAdmxConfigId', assets: 'mdmAssetId' };

/** The platform fields the body gives, ready for the `details` column. */
export function policyDetails(platform: Platform, input: PolicyInput): Record<string, unknown> {
  const given = input as Record<string, unknown>;
  if (platform === 'apple') checkMobileconfigs(given.profiles as Record<string, unknown>[] | undefined, 'body.profiles');
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(POLICY_DETAIL_DEFAULTS[platform])) {
    if (given[key] === undefined) continue;
    const idKey = platform === 'windows' ? ID_KEYS[key] : undefined;
    if (key === 'settings') out[key] = toStoredSettings(given[key] as Parameters<typeof toStoredSettings>[0]);
    else out[key] = idKey ? lowerIds(given[key], idKey) : given[key];
  }
  return out;
}

/**
 * Called in the transaction of an update that set a policy's items (Apple: `profiles`), so what
 * reaches devices changes with the policy or not at all; container.ts wires it to src/devices/.
 */
export type PolicyChangeHook = (tx: Executor, organizationId: string, platform: Platform, policyId: string) => Promise<void>;

/**
 * What happens when a Windows policy's settings change, in the update's transaction: the
 * changed and added ones are queued for the devices they apply to (wired in container.ts to the
 * device command queue, which this module cannot import).
 */
export type WinSettingsChanged = (tx: Executor, organizationId: string, policyId: string, changed: WinSettingView[], now: Date) => Promise<number>;

/** The settings of `after` that `before` does not hold exactly (same LocURI, verb, format and data). */
export function changedSettings(before: unknown, after: readonly WinSettingView[]): WinSettingView[] {
  const key = (s: WinSettingView) => JSON.stringify([s.locUri, s.verb, s.format, s.data]);
  const held = new Set((Array.isArray(before) ? (before as WinSettingView[]) : []).map(key));
  return after.filter((s) => !held.has(key(s)));
}

export function createPoliciesService(deps: { database: Database; clock: Clock; onItemsChanged?: PolicyChangeHook; onWinSettingsChanged?: WinSettingsChanged }) {
  const repo = () => createPoliciesRepo(deps.database.db);

  /** The organization's enterprise of the platform, which every policy view names. */
  async function enterpriseId(auth: AuthContext, platform: Platform): Promise<string> {
    const enterprise = await createEnterprisesRepo(deps.database.db).get(auth.organization.id, platform);
    if (!enterprise) throw notFound();
    return enterprise.id;
  }

  async function view(auth: AuthContext, platform: Platform, row: PolicyRecord | undefined): Promise<PolicyView> {
    if (!row) throw notFound();
    return toPolicyView(platform, row, await enterpriseId(auth, platform));
  }

  return {
    async list(auth: AuthContext, platform: Platform, query: PolicyQuery): Promise<Page<PolicyView>> {
      const sort = parseSort(query.sort, POLICY_SORT_FIELDS, NEWEST_FIRST);
      const page = { page: query.page, limit: query.limit };
      const [{ items, total }, enterprise] = await Promise.all([repo().list(auth.organization.id, platform, sort, page), enterpriseId(auth, platform)]);
      return toPage(
        items.map((row) => toPolicyView(platform, row, enterprise)),
        total,
        page,
      );
    },

    async get(auth: AuthContext, platform: Platform, id: string): Promise<PolicyView> {
      return view(auth, platform, await repo().get(auth.organization.id, platform, id.toLowerCase()));
    },

    async create(auth: AuthContext, platform: Platform, input: PolicyInput & { name: string }): Promise<PolicyView> {
      if (!auth.organization.planPlatforms.includes(platform)) throw new AppError('PLAN_FEATURE');
      const now = deps.clock.now();
      const row = await repo().insert(auth.organization.id, platform, {
        id: newId(),
        name: input.name,
        config: asRecord(input.config) ?? {},
        details: { ...POLICY_DETAIL_DEFAULTS[platform], ...policyDetails(platform, input) },
        version: 0,
        createdAt: now,
        updatedAt: now,
      });
      return view(auth, platform, row);
    },

    /** Replaces the fields given; every update, even one that changes nothing, is a new version. */
    async update(auth: AuthContext, platform: Platform, id: string, input: PolicyInput): Promise<PolicyView> {
      const changes = { name: input.name, config: asRecord(input.config), details: policyDetails(platform, input) };
      const organizationId = auth.organization.id;
      const policyId = id.toLowerCase();
      const now = deps.clock.now();
      const settings = changes.details.settings as WinSettingView[] | undefined;
      const onWinChanged = platform === 'windows' && settings !== undefined ? deps.onWinSettingsChanged : undefined;
      const onItemsChanged = platform === 'apple' && 'profiles' in input ? deps.onItemsChanged : undefined;
      if (!onWinChanged && !onItemsChanged) return view(auth, platform, await repo().update(organizationId, platform, policyId, changes, now));
      const row = await deps.database.db.transaction(async (tx) => {
        const policies = createPoliciesRepo(tx);
        // Locked: two concurrent edits each queue what changed against the other's result.
        const before = await policies.get(organizationId, platform, policyId, { forUpdate: true });
        if (!before) return undefined;
        const updated = await policies.update(organizationId, platform, policyId, changes, now);
        if (updated && onItemsChanged) await onItemsChanged(tx, organizationId, platform, updated.id);
        if (updated && onWinChanged) {
          const changed = changedSettings(before.details.settings, settings!);
          if (changed.length > 0) await onWinChanged(tx, organizationId, policyId, changed, now);
        }
        return updated;
      });
      return view(auth, platform, row);
    },

    /** Soft delete: tokens made with the policy keep embedding it. */
    async remove(auth: AuthContext, platform: Platform, id: string): Promise<PolicyView> {
      return view(auth, platform, await repo().softDelete(auth.organization.id, platform, id.toLowerCase(), deps.clock.now()));
    },
  };
}

export type PoliciesService = ReturnType<typeof createPoliciesService>;
