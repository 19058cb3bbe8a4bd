/**
 * Where a device finds Openroll's Apple endpoints. The organization is in every path, so each
 * lookup behind them is scoped to it (SCEP challenges, issued certificates, devices).
 */
export function appleUrls(publicUrl: string, organizationId: string) {
  const base = `${publicUrl}/mdm/apple/${organizationId}`;
  return { scep: `${base}/scep`, checkIn: `${base}/checkin`, server: `${base}/server` };
}

export const APPLE_ROUTES = {
  scep: '/mdm/apple/:organizationId/scep',
  checkIn: '/mdm/apple/:organizationId/checkin',
  server: '/mdm/apple/:organizationId/server',
  profile: '/enroll/:secret/profile.mobileconfig',
} as const;
