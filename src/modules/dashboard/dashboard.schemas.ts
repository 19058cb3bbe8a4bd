import { Type, type Static } from 'typebox';
import { TOKEN_STATES } from '../../db/schema.ts';
import { DateTime, OrgParams, ok, withErrors } from '../../lib/schemas.ts';

const Count = Type.Integer({ minimum: 0 });
const PerState = Type.Object(Object.fromEntries(TOKEN_STATES.map((s) => [s, Count])) as Record<(typeof TOKEN_STATES)[number], typeof Count>);
const PerPlatform = Type.Object({ windows: Count, apple: Count });

/** The console's home page in one answer: what it would otherwise page through every list for. */
export const Dashboard = Type.Object({
  at: { ...DateTime, description: 'The time the figures were read at' },
  tokens: Type.Object({ windows: PerState, apple: PerState }, { description: 'Tokens by state (as the token list shows it: a PENDING token past its expiry is EXPIRED)' }),
  expiringSoon: { ...PerPlatform, description: 'Open tokens (PENDING) that expire within the next 24 hours' },
  enrollmentsPerDay: Type.Array(Type.Object({ day: Type.String({ format: 'date' }), windows: Count, apple: Count }), {
    description: 'Devices enrolled per UTC day, the last 30 days (today included), oldest first; every day is listed',
  }),
  emailsFailed: { ...PerPlatform, description: 'Enrollment emails whose delivery failed for good' },
  commandsFailed: { ...PerPlatform, description: 'Device commands the device answered with an error' },
});
export type DashboardView = Static<typeof Dashboard>;

export const getDashboardSchema = {
  tags: ['Dashboard'],
  summary: 'The organization’s figures at a glance',
  description: 'Tokens by state, tokens expiring within 24 hours, enrollments per day over 30 days, failed emails and failed commands; each counted in SQL, for every list of the organization at once.',
  params: OrgParams,
  response: withErrors({ 200: ok(Dashboard) }),
};
