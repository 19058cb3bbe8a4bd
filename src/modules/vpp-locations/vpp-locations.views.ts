import type { vppLocations } from '../../db/schema.ts';
import type { VppLocationView } from './vpp-locations.schemas.ts';

export type VppLocationRecord = typeof vppLocations.$inferSelect;

/** Renders a stored VPP location, named the Apple way (`organization`). Pure: tokens embed it. */
export function toVppLocationView(row: VppLocationRecord): VppLocationView {
  return {
    id: row.id,
    organization: row.organizationId,
    name: row.name,
    // Only what the body schema let through is ever stored here.
    config: row.config as VppLocationView['config'],
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
