/**
 * Every permission a route can require, in the vendor's `<area>.<platform>.<entity>.<action>`
 * form (CONTRACT.md section 3), and the roles built from them.
 */
const TOKEN_ACTIONS = ['list', 'get', 'create', 'update', 'remove'] as const;
const CRUD = ['list', 'get', 'create', 'update', 'remove'] as const;

export const PERMISSIONS = [
  ...TOKEN_ACTIONS.map((a) => `mdm.windows.enrollmentToken.${a}`),
  ...TOKEN_ACTIONS.map((a) => `mdm.apple.enrollmentToken.${a}`),
  ...CRUD.map((a) => `mdm.global.mdmUser.${a}`),
  ...CRUD.map((a) => `mdm.windows.policy.${a}`),
  ...CRUD.map((a) => `mdm.apple.policy.${a}`),
  'mdm.windows.enterprise.get',
  'mdm.windows.device.list',
  'mdm.windows.device.get',
  'mdm.windows.device.remove',
  'mdm.apple.enterprise.get',
  'mdm.apple.enterprise.update',
  'mdm.apple.device.list',
  'mdm.apple.device.get',
  'mdm.apple.device.remove',
  'mdm.apple.vppLocation.list',
  'mdm.apple.vppLocation.get',
  'mdm.apple.vppLocation.create',
  'mdm.apple.vppLocation.update',
  'mdm.apple.vppLocation.remove',
  // The console's home page: figures over tokens, devices, emails and commands (GET .../dashboard).
  'base.organization.dashboard.get',
  'base.organization.segment.list',
  'base.organization.segment.get',
  'base.organization.segment.create',
  'base.organization.segment.update',
  'base.organization.segment.remove',
  ...CRUD.map((a) => `base.organization.webhook.${a}`),
  'base.organization.apiKey.list',
  'base.organization.apiKey.create',
  'base.organization.apiKey.remove',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

export const ROLES = ['admin', 'developer', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

const ROLE_GRANTS: Record<Role, readonly string[]> = {
  admin: ['*'],
  developer: PERMISSIONS.filter((p) => !p.startsWith('base.organization.apiKey.')),
  viewer: PERMISSIONS.filter((p) => !p.startsWith('base.organization.apiKey.') && (p.endsWith('.list') || p.endsWith('.get'))),
};

export function grantsOfRole(role: Role): readonly string[] {
  return ROLE_GRANTS[role];
}

/** A grant is an exact permission or a prefix ending in a `*` segment (`mdm.*`, `*`). */
export function grantCovers(grant: string, permission: string): boolean {
  if (grant === '*') return true;
  if (grant.endsWith('.*')) return permission.startsWith(grant.slice(0, -1));
  return grant === permission;
}

export function isAllowed(grants: readonly string[], permission: string): boolean {
  return grants.some((grant) => grantCovers(grant, permission));
}

/** A grant is valid when it names a known permission or a wildcard that covers at least one. */
export function isValidGrant(grant: string): boolean {
  return PERMISSIONS.some((p) => grantCovers(grant, p));
}

/** Every known permission a set of grants allows: what a key can pass on to a key it creates. */
export function expandGrants(grants: readonly string[]): Permission[] {
  return PERMISSIONS.filter((p) => isAllowed(grants, p));
}
