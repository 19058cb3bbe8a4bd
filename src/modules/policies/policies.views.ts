import type { policies } from '../../db/schema.ts';
import type { Platform } from '../../platforms/platforms.ts';
import type { AdmPolicyView, PolicyView, WinPolicyView } from './policies.schemas.ts';

export type PolicyRecord = typeof policies.$inferSelect;

/** Where each platform keeps its own fields inside the `details` column, with their empty values. */
export const POLICY_DETAIL_DEFAULTS = {
  windows: { applications: [], scripts: [], admxConfigs: [], agentConfiguration: null, assets: [], settings: [] },
  apple: { profiles: [], applications: [] },
} as const satisfies Record<Platform, Record<string, unknown>>;

const list = <T>(value: unknown): T[] => (Array.isArray(value) ? (value as T[]) : []);
type Win = WinPolicyView;
type Adm = AdmPolicyView;

/**
 * Renders a stored policy in its platform's shape. Pure: the token module embeds policies with
 * it, deleted ones included. `details` only ever holds what the body schema let through, so
 * its values are taken as they are; missing keys read as empty.
 */
export function toPolicyView(platform: 'windows', row: PolicyRecord, enterpriseId: string): WinPolicyView;
export function toPolicyView(platform: 'apple', row: PolicyRecord, enterpriseId: string): AdmPolicyView;
export function toPolicyView(platform: Platform, row: PolicyRecord, enterpriseId: string): PolicyView;
export function toPolicyView(platform: Platform, row: PolicyRecord, enterpriseId: string): PolicyView {
  const d = row.details;
  const tail = { version: row.version, updatedAt: row.updatedAt.toISOString(), createdAt: row.createdAt.toISOString() };
  if (platform === 'windows') {
    return {
      id: row.id,
      organizationId: row.organizationId,
      winEnterpriseId: enterpriseId,
      name: row.name,
      config: row.config,
      applications: list<Win['applications'][number]>(d.applications),
      // The *Info arrays describe catalog entries (apps, scripts, ADMX files, assets) this server does not keep.
      applicationsInfo: [],
      scripts: list<Win['scripts'][number]>(d.scripts),
      scriptsInfo: [],
      admxConfigs: list<Win['admxConfigs'][number]>(d.admxConfigs),
      admxConfigsInfo: [],
      agentConfiguration: (d.agentConfiguration ?? null) as Win['agentConfiguration'],
      assets: list<Win['assets'][number]>(d.assets),
      assetsInfo: [],
      settings: list<Win['settings'][number]>(d.settings),
      ...tail,
    };
  }
  return {
    id: row.id,
    organization: row.organizationId,
    admEnterprise: enterpriseId,
    name: row.name,
    config: row.config,
    profiles: list<Adm['profiles'][number]>(d.profiles),
    applications: list<Adm['applications'][number]>(d.applications),
    ...tail,
  };
}
