import type { Platform } from '../../platforms/platforms.ts';
import type { EnterpriseRecord } from './enterprises.repo.ts';
import type { AdmEnterpriseView, WinEnterpriseView } from './enterprises.schemas.ts';

/** Renders an enterprise in its platform's shape (`organizationId` vs `organization` + `enroll`). */
export function toEnterpriseView(platform: 'windows', row: EnterpriseRecord): WinEnterpriseView;
export function toEnterpriseView(platform: 'apple', row: EnterpriseRecord): AdmEnterpriseView;
export function toEnterpriseView(platform: Platform, row: EnterpriseRecord): WinEnterpriseView | AdmEnterpriseView;
export function toEnterpriseView(platform: Platform, row: EnterpriseRecord): WinEnterpriseView | AdmEnterpriseView {
  const common = { name: row.name, config: row.config, createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString() };
  if (platform === 'windows') return { id: row.id, organizationId: row.organizationId, ...common };
  return {
    id: row.id,
    organization: row.organizationId,
    ...common,
    enroll: { serverExpirationDate: row.serverExpirationDate?.toISOString() ?? null, mobileConfigSigned: row.mobileConfigSigned },
  };
}
