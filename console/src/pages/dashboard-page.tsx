/**
 * The console's home page: the organization's figures from the one dashboard route (no paging
 * through lists in the browser). The charts are plain SVG and decorative to screen readers: the
 * same numbers are in a table and in the links beside them.
 */
import { api, unwrap } from '../api.ts';
import { t, type MessageKey } from '../i18n.ts';
import { Link } from '../link.tsx';
import { PLATFORMS, type Platform } from '../platform.ts';
import { useSession } from '../session.ts';
import { ErrorBanner, Loading, useLoad } from '../ui.tsx';

const STATES = ['PENDING', 'DONE', 'EXPIRED', 'DELETED'] as const;
const TITLE: Record<Platform, MessageKey> = { windows: 'dashboard.windows', apple: 'dashboard.apple' };

/** Bars of one platform's tokens by state, widths in proportion to the largest. */
function StateBars({ counts }: { counts: Record<(typeof STATES)[number], number> }) {
  const max = Math.max(1, ...STATES.map((s) => counts[s]));
  return (
    <svg class="chart bars" viewBox="0 0 100 40" preserveAspectRatio="none" aria-hidden="true" focusable="false">
      {STATES.map((s, i) => (
        <rect key={s} class={`bar state-${s.toLowerCase()}`} x="0" y={i * 10 + 1} height="8" width={(counts[s] / max) * 100} />
      ))}
    </svg>
  );
}

/** Enrollments per day as columns, both platforms stacked. */
function DayColumns({ days }: { days: Array<{ day: string; windows: number; apple: number }> }) {
  const max = Math.max(1, ...days.map((d) => d.windows + d.apple));
  const w = 100 / days.length;
  return (
    <svg class="chart columns" viewBox="0 0 100 40" preserveAspectRatio="none" aria-hidden="true" focusable="false">
      {days.map((d, i) => {
        const hw = (d.windows / max) * 40;
        const ha = (d.apple / max) * 40;
        return (
          <g key={d.day}>
            <rect class="col windows" x={i * w + w * 0.1} width={w * 0.8} y={40 - hw} height={hw} />
            <rect class="col apple" x={i * w + w * 0.1} width={w * 0.8} y={40 - hw - ha} height={ha} />
          </g>
        );
      })}
    </svg>
  );
}

export function DashboardPage() {
  const organizationId = useSession().organization.id;
  const figures = useLoad(() => unwrap(api.GET('/v1/organizations/{organizationId}/dashboard', { params: { path: { organizationId } } })), [organizationId]);
  if (figures.loading && !figures.data) return <Loading />;
  const d = figures.data;
  return (
    <>
      <div class="page-head">
        <h1>{t('dashboard.title')}</h1>
      </div>
      <ErrorBanner failure={figures.failure} />
      {d && (
        <>
          <div class="dashboard-grid">
            {PLATFORMS.map((platform) => (
              <section class="card" key={platform} aria-labelledby={`tokens-${platform}`}>
                <h2 id={`tokens-${platform}`}>{t(TITLE[platform])}</h2>
                <StateBars counts={d.tokens[platform]} />
                <ul class="plain figures">
                  {STATES.map((s) => (
                    <li key={s}>
                      <span class={`swatch state-${s.toLowerCase()}`} aria-hidden="true" />
                      <Link href={s === 'DELETED' ? `/tokens/${platform}?deleted=1&sort=state:asc` : `/tokens/${platform}?sort=state:asc`}>
                        {t(`state.${s}` as MessageKey)}: {d.tokens[platform][s].toLocaleString()}
                      </Link>
                    </li>
                  ))}
                  <li>
                    <Link href={`/tokens/${platform}?sort=expireAt:asc`}>{t('dashboard.expiringSoon', { n: d.expiringSoon[platform] })}</Link>
                  </li>
                  <li>
                    <Link href={`/tokens/${platform}?sort=updatedAt:desc`}>{t('dashboard.emailsFailed', { n: d.emailsFailed[platform] })}</Link>
                  </li>
                  <li>
                    <Link href={`/devices/${platform}?sort=updatedAt:desc`}>{t('dashboard.commandsFailed', { n: d.commandsFailed[platform] })}</Link>
                  </li>
                </ul>
              </section>
            ))}
          </div>
          <section class="card" aria-labelledby="enrollments-title">
            <h2 id="enrollments-title">{t('dashboard.enrollments')}</h2>
            <DayColumns days={d.enrollmentsPerDay} />
            <p class="legend">
              <span class="swatch windows" aria-hidden="true" /> <Link href="/devices/windows?sort=enrolledAt:desc">{t('nav.windowsDevices')}</Link>{' '}
              <span class="swatch apple" aria-hidden="true" /> <Link href="/devices/apple?sort=createdAt:desc">{t('nav.appleDevices')}</Link>
            </p>
            <details>
              <summary>{t('dashboard.enrollmentsTable')}</summary>
              <table class="list">
                <caption class="visually-hidden">{t('dashboard.enrollments')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('dashboard.day')}</th>
                    <th scope="col">Windows</th>
                    <th scope="col">Apple</th>
                  </tr>
                </thead>
                <tbody>
                  {d.enrollmentsPerDay.map((day) => (
                    <tr key={day.day}>
                      <td data-label={t('dashboard.day')}>
                        <time dateTime={day.day}>{day.day}</time>
                      </td>
                      <td data-label="Windows">{day.windows}</td>
                      <td data-label="Apple">{day.apple}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </details>
          </section>
        </>
      )}
    </>
  );
}
