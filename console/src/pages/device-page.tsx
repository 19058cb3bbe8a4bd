/** One device: identity, the token and user it enrolled with, its certificate, policies, commands, Retire. */
import { useState } from 'preact/hooks';
import { api, unwrap, type Failure } from '../api.ts';
import { DEVICES, devicePerm, deviceView } from '../devices.ts';
import { formatDate, t, type MessageKey } from '../i18n.ts';
import { Link } from '../link.tsx';
import { perm, POLICIES, TOKENS, tokenView, type Platform } from '../platform.ts';
import { useCan, useSession } from '../session.ts';
import { ConfirmButton, Empty, ErrorBanner, Loading, Pager, useLoad } from '../ui.tsx';
import { DeviceStateBadge } from './devices-page.tsx';

const COMMANDS_PER_PAGE = 50;

export function DevicePage({ platform, id }: { platform: Platform; id: string }) {
  const organizationId = useSession().organization.id;
  const can = useCan();
  const [failure, setFailure] = useState<Failure>();
  const [notice, setNotice] = useState<string>();
  const [commandsPage, setCommandsPage] = useState(1);
  const path = { organizationId, id };
  const device = useLoad(() => unwrap(api.GET(`${DEVICES[platform]}/{id}`, { params: { path } })), [platform, id]);
  const commands = useLoad(
    () => unwrap(api.GET(`${DEVICES[platform]}/{id}/commands`, { params: { path, query: { page: commandsPage, limit: COMMANDS_PER_PAGE, sort: 'createdAt:desc' } } })),
    [platform, id, commandsPage],
  );
  const tokenId = device.data ? deviceView(platform, device.data).tokenId : undefined;
  // The token names the user (an Apple device row does not); a key without token.get still sees the device.
  const token = useLoad(
    async () => (tokenId && can(perm(platform, 'get')) ? unwrap(api.GET(`${TOKENS[platform]}/{id}`, { params: { path: { organizationId, id: tokenId } } })) : { data: undefined }),
    [platform, tokenId],
  );
  const policies = useLoad(
    () => unwrap(api.GET(POLICIES[platform], { params: { path: { organizationId }, query: { limit: 500, sort: 'name:asc' } } })),
    [platform, organizationId],
  );
  const back = `/devices/${platform}`;

  if (device.loading && !device.data) return <Loading />;
  if (!device.data) {
    return (
      <>
        <ErrorBanner failure={device.failure} />
        <Link href={back}>{t('device.back')}</Link>
      </>
    );
  }
  const d = deviceView(platform, device.data);
  const tok = token.data ? tokenView(platform, token.data) : undefined;
  const policyName = (policyId: string | null) =>
    policyId === null ? t('device.tokenProfiles') : ((policies.data?.items ?? []) as Array<{ id: string; name: string }>).find((p) => p.id === policyId)?.name ?? policyId;
  const c = d.commands;

  return (
    <>
      <p class="crumbs">
        <Link href={back}>{t(platform === 'windows' ? 'devices.titleWindows' : 'devices.titleApple')}</Link>
      </p>
      <div class="page-head">
        <h1>
          {d.name ?? t('device.unnamed')} <DeviceStateBadge state={d.state} />
        </h1>
        <div class="actions">
          {d.state !== 'unenrolled' && can(devicePerm(platform, 'remove')) && (
            <ConfirmButton
              label={t('device.retire')}
              question={t('device.retireQuestion')}
              confirm={t('device.retireConfirm')}
              onConfirm={async () => {
                setNotice(undefined);
                const result = await unwrap(api.DELETE(`${DEVICES[platform]}/{id}`, { params: { path } }));
                setFailure(result.failure);
                if (!result.failure) setNotice(t('device.retired'));
                device.reload();
                commands.reload();
              }}
            />
          )}
        </div>
      </div>
      {notice && (
        <p class="banner success" role="status">
          {notice}
        </p>
      )}
      <ErrorBanner failure={failure} />
      <div class="token-grid">
        <section class="card" aria-labelledby="identity-title">
          <h2 id="identity-title">{t('device.identity')}</h2>
          <dl class="facts">
            <dt>{t('device.name')}</dt>
            <dd>{d.name ?? '—'}</dd>
            <dt>{t('device.model')}</dt>
            <dd>{d.model ?? '—'}</dd>
            <dt>{t('device.os')}</dt>
            <dd>{d.osVersion ?? '—'}</dd>
            <dt>{t(d.hardwareIdKind === 'serial' ? 'device.serial' : 'device.deviceId')}</dt>
            <dd>
              <code class="wrap">{d.hardwareId || '—'}</code>
            </dd>
            {d.otherId && (
              <>
                <dt>{t(platform === 'windows' ? 'device.hwDevId' : 'device.udid')}</dt>
                <dd>
                  <code class="wrap">{d.otherId}</code>
                </dd>
              </>
            )}
          </dl>
        </section>
        <section class="card" aria-labelledby="enrollment-title">
          <h2 id="enrollment-title">{t('device.enrollment')}</h2>
          <dl class="facts">
            <dt>{t('device.user')}</dt>
            <dd>{d.userEmail ?? tok?.mdmUser?.email ?? '—'}</dd>
            <dt>{t('device.token')}</dt>
            <dd>
              <Link href={`/tokens/${platform}/${d.tokenId}`}>
                {tok ? tok.displayName || t('token.untitled') : d.tokenId}
              </Link>
            </dd>
            <dt>{t('device.enrolled')}</dt>
            <dd>
              <time dateTime={d.enrolledAt ?? undefined}>{formatDate(d.enrolledAt)}</time>
            </dd>
            <dt>{t('device.lastSeen')}</dt>
            <dd>
              <time dateTime={d.lastSeenAt ?? undefined}>{formatDate(d.lastSeenAt)}</time>
            </dd>
            {d.unenrolledAt && (
              <>
                <dt>{t('device.unenrolledAt')}</dt>
                <dd>
                  <time dateTime={d.unenrolledAt}>{formatDate(d.unenrolledAt)}</time>
                </dd>
              </>
            )}
            <dt>{t('device.certificate')}</dt>
            <dd>
              {d.certificate.serialNumber && (
                <>
                  <span class="muted">{t('device.certSerial')}</span> <code class="wrap">{d.certificate.serialNumber}</code>
                  <br />
                </>
              )}
              <span class="muted">{t('device.thumbprint')}</span> <code class="wrap">{d.certificate.thumbprint}</code>
            </dd>
          </dl>
        </section>
      </div>
      <section class="card" aria-labelledby="policies-title">
        <h2 id="policies-title">{t('device.policies')}</h2>
        {d.policies.length === 0 ? (
          <p>{t('device.noPolicies')}</p>
        ) : (
          <ul class="plain">
            {d.policies.map((p) => (
              <li key={p.policyId ?? 'token'}>
                {policyName(p.policyId)} <span class={`badge policy-${p.state}`}>{t(`policyState.${p.state}` as MessageKey)}</span>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section class="card" aria-labelledby="commands-title">
        <h2 id="commands-title">{t('device.commands')}</h2>
        <p class="muted">{t('device.commandCounts', { queued: c.queued, sent: c.sent, acknowledged: c.acknowledged, error: c.error })}</p>
        <ErrorBanner failure={commands.failure} />
        {commands.data && commands.data.items.length === 0 && <Empty title={t('device.commandsEmpty')} />}
        {commands.data && commands.data.items.length > 0 && (
          <>
            <table class="list">
              <caption class="visually-hidden">{t('device.commands')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('device.command')}</th>
                  <th scope="col">{t('device.target')}</th>
                  <th scope="col">{t('device.status')}</th>
                  <th scope="col">{t('device.result')}</th>
                  <th scope="col">{t('device.queuedAt')}</th>
                  <th scope="col">{t('device.completedAt')}</th>
                </tr>
              </thead>
              <tbody>
                {commands.data.items.map((cmd) => (
                  <tr key={cmd.id}>
                    <td data-label={t('device.command')}>{cmd.type}</td>
                    <td data-label={t('device.target')}>
                      <code class="wrap">{cmd.target ?? '—'}</code>
                    </td>
                    <td data-label={t('device.status')}>
                      <span class={`badge command-${cmd.status}`}>{t(`commandStatus.${cmd.status}` as MessageKey)}</span>
                    </td>
                    <td data-label={t('device.result')}>
                      {cmd.result ? (
                        <>
                          {cmd.result.code !== null && <code>{cmd.result.code}</code>} {cmd.result.message ?? ''}
                        </>
                      ) : (
                        '—'
                      )}
                    </td>
                    <td data-label={t('device.queuedAt')}>
                      <time dateTime={cmd.createdAt}>{formatDate(cmd.createdAt)}</time>
                    </td>
                    <td data-label={t('device.completedAt')}>
                      <time dateTime={cmd.completedAt ?? undefined}>{formatDate(cmd.completedAt)}</time>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager info={commands.data} onPage={setCommandsPage} />
          </>
        )}
      </section>
    </>
  );
}
