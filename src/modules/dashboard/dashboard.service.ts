import type { AuthContext } from '../../auth/auth-context.ts';
import type { Database } from '../../db/client.ts';
import { TOKEN_STATES } from '../../db/schema.ts';
import type { Clock } from '../../lib/clock.ts';
import { createDashboardRepo } from './dashboard.repo.ts';
import type { DashboardView } from './dashboard.schemas.ts';

const DAY = 86_400_000;
export const DASHBOARD_DAYS = 30;

type Platform = 'windows' | 'apple';
const perPlatform = (rows: Array<{ platform: string; n: number }>) => ({
  windows: rows.find((r) => r.platform === 'windows')?.n ?? 0,
  apple: rows.find((r) => r.platform === 'apple')?.n ?? 0,
});

export interface DashboardService {
  get(auth: AuthContext): Promise<DashboardView>;
}

export function createDashboardService(deps: { database: Database; clock: Clock }): DashboardService {
  return {
    async get(auth) {
      const organizationId = auth.organization.id;
      const now = deps.clock.now();
      // The 30 UTC days ending today: from midnight of the first one.
      const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
      const since = new Date(today - (DASHBOARD_DAYS - 1) * DAY);
      const repo = createDashboardRepo(deps.database.db);
      const [states, expiring, enrollments, emails, commands] = await Promise.all([
        repo.tokensByState(organizationId, now),
        repo.expiringSoon(organizationId, now, new Date(now.getTime() + DAY)),
        repo.enrollmentsPerDay(organizationId, since),
        repo.emailsFailed(organizationId),
        repo.commandsFailed(organizationId),
      ]);
      const tokens = (platform: Platform) =>
        Object.fromEntries(TOKEN_STATES.map((s) => [s, states.find((r) => r.platform === platform && r.state === s)?.n ?? 0])) as Record<(typeof TOKEN_STATES)[number], number>;
      const days = Array.from({ length: DASHBOARD_DAYS }, (_, i) => new Date(since.getTime() + i * DAY).toISOString().slice(0, 10));
      return {
        at: now.toISOString(),
        tokens: { windows: tokens('windows'), apple: tokens('apple') },
        expiringSoon: perPlatform(expiring),
        enrollmentsPerDay: days.map((day) => ({
          day,
          windows: enrollments.windows.find((r) => r.day === day)?.n ?? 0,
          apple: enrollments.apple.find((r) => r.day === day)?.n ?? 0,
        })),
        emailsFailed: perPlatform(emails),
        commandsFailed: perPlatform(commands),
      };
    },
  };
}
