/** Devices of one platform: the list API's filters (state, user, last seen), its sort and pages. */
import { useEffect, useState } from 'preact/hooks';
import { api, unwrap } from '../api.ts';
import { DEVICE_SORT_FIELDS, DEVICE_STATES, DEVICES, deviceView } from '../devices.ts';
import { formatDate, t, type MessageKey } from '../i18n.ts';
import { Link } from '../link.tsx';
import type { Platform } from '../platform.ts';
import { navigate, useLocation, withQuery } from '../router.ts';
import { useSession } from '../session.ts';
import { Empty, ErrorBanner, Loading, Pager, SelectField, TextField, useLoad } from '../ui.tsx';

const LIMITS = ['10', '25', '50', '100', '500'];
const DAY = 86_400_000;
/** The last-seen choices: each a bound of the API's last-seen-after or last-seen-before, in days before now. */
const SEEN = {
  '': {},
  '1': { after: 1 },
  '7': { after: 7 },
  'stale7': { before: 7 },
  'stale30': { before: 30 },
} as const satisfies Record<string, { after?: number; before?: number }>;
type Seen = keyof typeof SEEN;
const SEEN_LABELS: Record<Seen, MessageKey> = { '': 'devices.seenAny', '1': 'devices.seen1', '7': 'devices.seen7', stale7: 'devices.stale7', stale30: 'devices.stale30' };

function seenQuery(seen: Seen): Record<string, string> {
  const bound = SEEN[seen] as { after?: number; before?: number };
  const ago = (days: number) => new Date(Math.floor(Date.now() / 60_000) * 60_000 - days * DAY).toISOString();
  return { ...(bound.after ? { 'last-seen-after': ago(bound.after) } : {}), ...(bound.before ? { 'last-seen-before': ago(bound.before) } : {}) };
}

export function DeviceStateBadge({ state }: { state: string }) {
  return <span class={`badge device-${state}`}>{t(`deviceState.${state}` as MessageKey)}</span>;
}

export function DevicesPage({ platform }: { platform: Platform }) {
  const organizationId = useSession().organization.id;
  const { query } = useLocation();
  const page = Number(query.get('page') ?? 1) || 1;
  const limit = Number(query.get('limit') ?? 25) || 25;
  const sort = query.get('sort') ?? 'createdAt:desc';
  const state = query.get('state') ?? '';
  const user = query.get('user') ?? '';
  const userEmail = query.get('email') ?? '';
  const seenRaw = query.get('seen') ?? '';
  const seen: Seen = seenRaw in SEEN ? (seenRaw as Seen) : '';
  const base = `/devices/${platform}`;
  const go = (changes: Record<string, string | number | undefined>) =>
    navigate(withQuery(base, { state, user, email: userEmail, seen, sort, limit: limit === 25 ? undefined : limit, page, ...changes }));

  const [emailDraft, setEmailDraft] = useState(userEmail);
  const [emailError, setEmailError] = useState<string>();
  useEffect(() => setEmailDraft(userEmail), [userEmail]);

  const list = useLoad(
    () =>
      unwrap(
        api.GET(DEVICES[platform], {
          params: {
            path: { organizationId },
            query: { page, limit, sort, ...(state ? { state: state as never } : {}), ...(user ? { 'mdm-user': user } : {}), ...seenQuery(seen) },
          },
        }),
      ),
    [platform, organizationId, page, limit, sort, state, user, seen],
  );

  const [field, dir] = sort.split(':') as [string, string | undefined];
  const title = t(platform === 'windows' ? 'devices.titleWindows' : 'devices.titleApple');
  const filtered = Boolean(state || user || seen);
  const states = DEVICE_STATES[platform];

  return (
    <>
      <div class="page-head">
        <h1>{title}</h1>
      </div>
      <form
        key={`${platform}?${query.toString()}`}
        class="filters"
        aria-label={t('devices.filters')}
        onSubmit={async (e) => {
          e.preventDefault();
          const data = new FormData(e.currentTarget);
          const email = emailDraft.trim().toLowerCase();
          let userId = '';
          setEmailError(undefined);
          if (email) {
            const found = await unwrap(api.GET('/v1/organizations/{organizationId}/mdm/users', { params: { path: { organizationId }, query: { email, limit: 1 } } }));
            userId = found.data?.items[0]?.id ?? '';
            if (!userId) {
              setEmailError(found.failure?.fields.email ?? t('tokens.noSuchUser'));
              return;
            }
          }
          go({
            state: String(data.get('state') ?? ''),
            user: userId,
            email: userId ? email : '',
            seen: String(data.get('seen') ?? ''),
            sort: `${data.get('sortField')}:${data.get('sortDir')}`,
            limit: Number(data.get('limit')) === 25 ? undefined : Number(data.get('limit')),
            page: 1,
          });
        }}
      >
        <SelectField
          label={t('devices.filterState')}
          name="state"
          defaultValue={state}
          options={[{ value: '', label: t('devices.anyState') }, ...states.map((s) => ({ value: s, label: t(`deviceState.${s.toLowerCase()}` as MessageKey) }))]}
        />
        <TextField label={t('tokens.filterUser')} name="email" type="email" placeholder="jane@example.com" value={emailDraft} error={emailError} onInput={(e) => setEmailDraft((e.target as HTMLInputElement).value)} />
        <SelectField label={t('devices.filterSeen')} name="seen" defaultValue={seen} options={(Object.keys(SEEN) as Seen[]).map((s) => ({ value: s, label: t(SEEN_LABELS[s]) }))} />
        <SelectField label={t('tokens.sortBy')} name="sortField" defaultValue={field} options={DEVICE_SORT_FIELDS[platform].map((f) => ({ value: f, label: t(`sort.${f}` as MessageKey) }))} />
        <SelectField
          label={t('tokens.order')}
          name="sortDir"
          defaultValue={dir ?? 'asc'}
          options={[
            { value: 'desc', label: t('sort.desc') },
            { value: 'asc', label: t('sort.asc') },
          ]}
        />
        <SelectField label={t('tokens.perPage')} name="limit" defaultValue={String(limit)} options={LIMITS.map((l) => ({ value: l, label: l }))} />
        <div class="filter-actions">
          <button type="submit">{t('tokens.apply')}</button>
          {filtered && (
            <button type="button" class="secondary" onClick={() => navigate(base)}>
              {t('tokens.clear')}
            </button>
          )}
        </div>
      </form>
      <ErrorBanner failure={list.failure} />
      {list.loading && !list.data ? (
        <Loading />
      ) : list.data && list.data.items.length === 0 ? (
        <Empty title={filtered ? t('devices.emptyFiltered') : t('devices.empty')}>{!filtered && <p>{t('devices.emptyHint')}</p>}</Empty>
      ) : list.data ? (
        <>
          <table class="list" aria-busy={list.loading}>
            <caption class="visually-hidden">{title}</caption>
            <thead>
              <tr>
                <th scope="col">{t('device.name')}</th>
                <th scope="col">{t(platform === 'windows' ? 'device.deviceId' : 'device.serial')}</th>
                <th scope="col">{t('device.state')}</th>
                <th scope="col">{t('device.enrolled')}</th>
                <th scope="col">{t('device.lastSeen')}</th>
                <th scope="col">{t('device.failedCommands')}</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((raw) => {
                const d = deviceView(platform, raw);
                return (
                  <tr key={d.id}>
                    <td data-label={t('device.name')}>
                      <Link href={`${base}/${d.id}`}>{d.name ?? t('device.unnamed')}</Link>
                    </td>
                    <td data-label={t(platform === 'windows' ? 'device.deviceId' : 'device.serial')}>
                      <code class="wrap">{d.hardwareId || '—'}</code>
                    </td>
                    <td data-label={t('device.state')}>
                      <DeviceStateBadge state={d.state} />
                    </td>
                    <td data-label={t('device.enrolled')}>
                      <time dateTime={d.enrolledAt ?? undefined}>{formatDate(d.enrolledAt)}</time>
                    </td>
                    <td data-label={t('device.lastSeen')}>
                      <time dateTime={d.lastSeenAt ?? undefined}>{formatDate(d.lastSeenAt)}</time>
                    </td>
                    <td data-label={t('device.failedCommands')}>{d.commands.error.toLocaleString()}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <Pager info={list.data} onPage={(n) => go({ page: n })} />
        </>
      ) : null}
    </>
  );
}
