/** Tokens of one platform: every filter and sort of the list API, exact totals, pages. */
import { useEffect, useState } from 'preact/hooks';
import { api, unwrap } from '../api.ts';
import { formatDate, t, type MessageKey } from '../i18n.ts';
import { Link } from '../link.tsx';
import { perm, POLICIES, POLICY_FILTER, TOKENS, tokenView, type Platform } from '../platform.ts';
import { navigate, useLocation, withQuery } from '../router.ts';
import { useCan, useSession } from '../session.ts';
import { tokenTitle } from '../token-title.ts';
import { CheckboxField, Empty, ErrorBanner, Loading, Pager, SelectField, StateBadge, TextField, useLoad } from '../ui.tsx';

const SORT_FIELDS = ['createdAt', 'updatedAt', 'expireAt', 'displayName', 'state', 'type', 'subType', 'mdmUser.email'] as const;
const LIMITS = ['10', '25', '50', '100', '500'];

export function TokensPage({ platform }: { platform: Platform }) {
  const session = useSession();
  const can = useCan();
  const organizationId = session.organization.id;
  const { query } = useLocation();
  const page = Number(query.get('page') ?? 1) || 1;
  const limit = Number(query.get('limit') ?? 25) || 25;
  const sort = query.get('sort') ?? 'createdAt:desc';
  const user = query.get('user') ?? '';
  const userEmail = query.get('email') ?? '';
  const policy = query.get('policy') ?? '';
  const deleted = query.get('deleted') === '1';
  const base = `/tokens/${platform}`;
  const go = (changes: Record<string, string | number | boolean | undefined>) =>
    navigate(withQuery(base, { user, email: userEmail, policy, deleted: deleted ? '1' : undefined, sort, limit: limit === 25 ? undefined : limit, page, ...changes }));

  const [emailDraft, setEmailDraft] = useState(userEmail);
  const [emailError, setEmailError] = useState<string>();
  useEffect(() => setEmailDraft(userEmail), [userEmail]);

  const policies = useLoad(
    () => unwrap(api.GET(POLICIES[platform], { params: { path: { organizationId }, query: { limit: 500, sort: 'name:asc' } } })),
    [platform, organizationId],
  );
  const list = useLoad(
    () =>
      unwrap(
        api.GET(TOKENS[platform], {
          params: {
            path: { organizationId },
            query: { page, limit, sort, ...(user ? { 'mdm-user': user } : {}), ...(policy ? { [POLICY_FILTER[platform]]: policy } : {}), ...(deleted ? { 'show-deleted': true } : {}) },
          },
        }),
      ),
    [platform, organizationId, page, limit, sort, user, policy, deleted],
  );

  const [field, dir] = sort.split(':') as [string, string | undefined];
  const title = t(platform === 'windows' ? 'tokens.titleWindows' : 'tokens.titleApple');
  const filtered = Boolean(user || policy || deleted);

  return (
    <>
      <div class="page-head">
        <h1>{title}</h1>
        {can(perm(platform, 'create')) && (
          <div class="actions">
            <Link class="button" href={`${base}/new`}>
              {t('tokens.new')}
            </Link>
            <Link class="button secondary" href={`${base}/bulk`}>
              {t('tokens.bulk')}
            </Link>
          </div>
        )}
      </div>
      <form
        key={`${platform}?${query.toString()}`}
        class="filters"
        aria-label={t('tokens.filters')}
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
            user: userId,
            email: userId ? email : '',
            policy: String(data.get('policy') ?? ''),
            deleted: data.get('deleted') === 'on' ? '1' : undefined,
            sort: `${data.get('sortField')}:${data.get('sortDir')}`,
            limit: Number(data.get('limit')) === 25 ? undefined : Number(data.get('limit')),
            page: 1,
          });
        }}
      >
        <TextField label={t('tokens.filterUser')} name="email" type="email" placeholder="jane@example.com" value={emailDraft} error={emailError} onInput={(e) => setEmailDraft((e.target as HTMLInputElement).value)} />
        <SelectField
          label={t('tokens.filterPolicy')}
          name="policy"
          defaultValue={policy}
          options={[{ value: '', label: t('tokens.anyPolicy') }, ...(policies.data?.items ?? []).map((p) => ({ value: p.id, label: p.name }))]}
        />
        <SelectField label={t('tokens.sortBy')} name="sortField" defaultValue={field} options={SORT_FIELDS.map((f) => ({ value: f, label: t(`sort.${f}` as MessageKey) }))} />
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
        <CheckboxField label={t('tokens.showDeleted')} name="deleted" defaultChecked={deleted} />
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
        <Empty title={filtered ? t('tokens.emptyFiltered') : t('tokens.empty')}>
          {!filtered && can(perm(platform, 'create')) && <p>{t('tokens.emptyHint')}</p>}
        </Empty>
      ) : list.data ? (
        <>
          <table class="list" aria-busy={list.loading}>
            <caption class="visually-hidden">{title}</caption>
            <thead>
              <tr>
                <th scope="col">{t('token.displayName')}</th>
                <th scope="col">{t('token.user')}</th>
                <th scope="col">{t('token.state')}</th>
                <th scope="col">{t('token.created')}</th>
                <th scope="col">{t('token.expires')}</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((raw) => {
                const tok = tokenView(platform, raw);
                return (
                  <tr key={tok.id}>
                    <td data-label={t('token.displayName')}>
                      <Link href={`${base}/${tok.id}`}>{tokenTitle(tok)}</Link>
                    </td>
                    <td data-label={t('token.user')}>{tok.mdmUser?.email ?? '—'}</td>
                    <td data-label={t('token.state')}>
                      <StateBadge state={tok.state} />
                    </td>
                    <td data-label={t('token.created')}>
                      <time dateTime={tok.createdAt}>{formatDate(tok.createdAt)}</time>
                    </td>
                    <td data-label={t('token.expires')}>
                      <time dateTime={tok.expireAt}>{formatDate(tok.expireAt)}</time>
                    </td>
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
