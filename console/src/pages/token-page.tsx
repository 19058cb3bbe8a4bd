/** One token: state, link, code and its QR code, the email's delivery, the audit trail, actions. */
import { useState } from 'preact/hooks';
import { api, unwrap, type Failure } from '../api.ts';
import { formatDate, t, tn, type MessageKey } from '../i18n.ts';
import { Link } from '../link.tsx';
import { perm, TOKENS, tokenView, type Platform } from '../platform.ts';
import { useLocation } from '../router.ts';
import { useCan, useSession } from '../session.ts';
import { useKeyNamer } from '../key-names.ts';
import { tokenTitle } from '../token-title.ts';
import { ConfirmButton, CopyButton, Empty, ErrorBanner, Loading, QrCode, StateBadge, useLoad } from '../ui.tsx';

export function TokenPage({ platform, id }: { platform: Platform; id: string }) {
  const organizationId = useSession().organization.id;
  const can = useCan();
  const [failure, setFailure] = useState<Failure>();
  const [notice, setNotice] = useState<string>();
  const path = { organizationId, id };
  const token = useLoad(() => unwrap(api.GET(`${TOKENS[platform]}/{id}`, { params: { path } })), [platform, id]);
  const events = useLoad(() => unwrap(api.GET(`${TOKENS[platform]}/{id}/events`, { params: { path, query: { limit: 100 } } })), [platform, id]);
  const back = `/tokens/${platform}`;
  const byKey = useKeyNamer();
  const saved = useLocation().query.get('saved') === '1';

  if (token.loading && !token.data) return <Loading />;
  if (!token.data) {
    return (
      <>
        <ErrorBanner failure={token.failure} />
        <Link href={back}>{t('token.back')}</Link>
      </>
    );
  }
  const tok = tokenView(platform, token.data);
  const open = tok.state === 'PENDING';
  const act = async (call: Promise<{ failure?: Failure }>, done: string) => {
    setNotice(undefined);
    const result = await call;
    setFailure(result.failure);
    if (!result.failure) setNotice(done);
    token.reload();
    events.reload();
  };

  return (
    <>
      <p class="crumbs">
        <Link href={back}>{t(platform === 'windows' ? 'tokens.titleWindows' : 'tokens.titleApple')}</Link>
      </p>
      <div class="page-head">
        <h1>
          {tokenTitle(tok)} <StateBadge state={tok.state} />
        </h1>
        <div class="actions">
          {tok.state !== 'DELETED' && can(perm(platform, 'update')) && (
            <Link class="button secondary" href={`${back}/${id}/edit`}>
              {t('token.edit')}
            </Link>
          )}
          {open && can(perm(platform, 'create')) && (
            // “Again” only when an email went out before: a token made without one gets its first.
            <ConfirmButton
              danger={false}
              label={t(tok.email ? 'token.resend' : 'token.sendEmail')}
              question={t(tok.email ? 'token.resendQuestion' : 'token.sendQuestion', { email: tok.mdmUser?.email ?? '' })}
              confirm={t(tok.email ? 'token.resend' : 'token.sendEmail')}
              onConfirm={() => act(unwrap(api.POST(`${TOKENS[platform]}/{id}/send-email`, { params: { path } })), t('token.resent'))}
            />
          )}
          {tok.state !== 'DELETED' && can(perm(platform, 'remove')) && (
            <ConfirmButton
              label={t('token.revoke')}
              question={t('token.revokeQuestion')}
              confirm={t('token.revokeConfirm')}
              onConfirm={() => act(unwrap(api.DELETE(`${TOKENS[platform]}/{id}`, { params: { path } })), t('token.revoked'))}
            />
          )}
        </div>
      </div>
      {saved && !notice && (
        <p class="banner success" role="status">
          {t('edit.saved')}
        </p>
      )}
      {notice && (
        <p class="banner success" role="status">
          {notice}
        </p>
      )}
      <ErrorBanner failure={failure} />
      <div class="token-grid">
        <section class="card enroll" aria-labelledby="enroll-title">
          <h2 id="enroll-title">{t('token.enroll')}</h2>
          {open ? (
            <>
              <QrCode text={tok.enrollmentLink} label={t('token.qrLabel')} />
              <p class="hint">{t('token.qrHint')}</p>
            </>
          ) : (
            <p class="banner info">{t(`token.closed.${tok.state}` as MessageKey)}</p>
          )}
          <dl class="facts">
            <dt>{t('token.code')}</dt>
            <dd class="code-row">
              <code class="enroll-code">{tok.enrollCode}</code>
              <CopyButton text={tok.enrollCode} label={t('token.copyCode')} />
            </dd>
            <dt>{t('token.link')}</dt>
            <dd class="link-row">
              <a class="enroll-link" href={tok.enrollmentLink} target="_blank" rel="noopener noreferrer">
                {tok.enrollmentLink}
              </a>
              <CopyButton text={tok.enrollmentLink} label={t('token.copyLink')} />
            </dd>
          </dl>
        </section>
        <section class="card" aria-labelledby="details-title">
          <h2 id="details-title">{t('token.details')}</h2>
          <dl class="facts">
            <dt>{t('token.user')}</dt>
            <dd>{tok.mdmUser?.email ?? '—'}</dd>
            <dt>{t('token.created')}</dt>
            <dd>
              <time dateTime={tok.createdAt}>{formatDate(tok.createdAt)}</time>
            </dd>
            <dt>{t('token.expires')}</dt>
            <dd>
              <time dateTime={tok.expireAt}>{formatDate(tok.expireAt)}</time>
            </dd>
            <dt>{t('token.policies')}</dt>
            <dd>
              {tok.assignments.length === 0 ? (
                t('token.noPolicies')
              ) : (
                <ol class="plain">
                  {tok.assignments.map((a) => (
                    <li key={a.policyId}>
                      {a.name} <span class="muted">({t('token.priority', { n: a.priority })})</span>
                    </li>
                  ))}
                </ol>
              )}
            </dd>
            <dt>{t('token.tags')}</dt>
            <dd>{tok.tags.length ? tok.tags.join(', ') : '—'}</dd>
            {tok.deviceId && (
              <>
                <dt>{t('token.device')}</dt>
                <dd>
                  <Link href={`/devices/${platform}/${tok.deviceId}`}>
                    <code>{tok.deviceId}</code>
                  </Link>
                </dd>
              </>
            )}
            <dt>{t('token.email')}</dt>
            <dd>
              {tok.email ? (
                <>
                  <span class={`badge email-${tok.email.status}`}>{t(`email.${tok.email.status}` as MessageKey)}</span>{' '}
                  {tok.email.sentAt && <time dateTime={tok.email.sentAt}>{formatDate(tok.email.sentAt)}</time>}{' '}
                  <span class="muted">{tn('email.attempts', tok.email.attempts)}</span>
                  {tok.email.lastError && <p class="field-error">{tok.email.lastError}</p>}
                </>
              ) : (
                t('email.none')
              )}
            </dd>
          </dl>
        </section>
      </div>
      <section class="card" aria-labelledby="trail-title">
        <h2 id="trail-title">{t('token.trail')}</h2>
        <ErrorBanner failure={events.failure} />
        {events.data && events.data.items.length === 0 && <Empty title={t('token.trailEmpty')} />}
        {events.data && events.data.items.length > 0 && (
          <ol class="trail">
            {events.data.items.map((e) => (
              <li key={e.id}>
                <time dateTime={e.at}>{formatDate(e.at)}</time>
                <span class="trail-what">{t(`event.${e.type}` as MessageKey)}</span>
                {e.actorKeyId && <span class="muted">{byKey(e.actorKeyId)}</span>}
              </li>
            ))}
          </ol>
        )}
      </section>
    </>
  );
}
