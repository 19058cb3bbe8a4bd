/**
 * Change an existing token through the API's PUT: its name, policies and priorities, segment,
 * VPP location (Apple) and tags. The API's field errors are shown at their fields.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, unwrap, type Failure } from '../api.ts';
import { t } from '../i18n.ts';
import { Link } from '../link.tsx';
import { perm, TOKENS, tokenView, type Platform } from '../platform.ts';
import { navigate } from '../router.ts';
import { useCan, useSession } from '../session.ts';
import { tokenTitle } from '../token-title.ts';
import { Empty, ErrorBanner, Loading, useLoad } from '../ui.tsx';
import { targetFieldNames, TokenTargetFields, updateBody, type TokenTarget } from './token-options.tsx';

export function TokenEditPage({ platform, id }: { platform: Platform; id: string }) {
  const organizationId = useSession().organization.id;
  const can = useCan();
  const path = { organizationId, id };
  const token = useLoad(() => unwrap(api.GET(`${TOKENS[platform]}/{id}`, { params: { path } })), [platform, id]);
  const [value, setValue] = useState<TokenTarget>();
  const [failure, setFailure] = useState<Failure>();
  const [busy, setBusy] = useState(false);
  const back = `/tokens/${platform}/${id}`;

  useEffect(() => {
    if (!token.data) return;
    const tok = tokenView(platform, token.data);
    const raw = token.data as { admVppLocation?: { id: string } | null };
    setValue({
      displayName: tok.displayName,
      assignments: tok.assignments.map((a) => ({ policyId: a.policyId, priority: String(a.priority) })),
      segmentId: tok.segmentId === null ? '' : String(tok.segmentId),
      vppLocationId: raw.admVppLocation?.id ?? '',
      tags: tok.tags.join(', '),
    });
  }, [token.data]);

  if (!can(perm(platform, 'update'))) return <Empty title={t('error.forbidden')} />;
  if (token.loading && !token.data) return <Loading />;
  if (!token.data || !value) return <ErrorBanner failure={token.failure} />;
  const tok = tokenView(platform, token.data);
  return (
    <>
      <p class="crumbs">
        <Link href={back}>{tokenTitle(tok)}</Link>
      </p>
      <h1>{t('token.editTitle', { name: tokenTitle(tok) })}</h1>
      <form
        class="form"
        noValidate
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setFailure(undefined);
          // Built for either platform's schema; the server validates every field.
          const saved = await unwrap(api.PUT(`${TOKENS[platform]}/{id}`, { params: { path }, body: updateBody(platform, value) as never }));
          setBusy(false);
          if (saved.failure) return setFailure(saved.failure);
          navigate(`${back}?saved=1`);
        }}
      >
        <ErrorBanner failure={failure} shownFields={targetFieldNames(platform, value)} />
        <TokenTargetFields platform={platform} value={value} onChange={setValue} failure={failure} />
        <div class="actions">
          <button type="submit" disabled={busy}>
            {busy ? t('common.working') : t('edit.save')}
          </button>
          <Link class="button secondary" href={back}>
            {t('common.cancel')}
          </Link>
        </div>
      </form>
    </>
  );
}
