/**
 * One policy: its name and what reaches the devices (Windows: the OMA-URI settings; Apple: the
 * configuration profiles), changed through the API's PUT. A key that may not update policies
 * reads the same page without a control.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, unwrap, type Failure } from '../api.ts';
import { t } from '../i18n.ts';
import { Link } from '../link.tsx';
import { POLICIES, type Platform } from '../platform.ts';
import { navigate } from '../router.ts';
import { useCan, useSession } from '../session.ts';
import { ErrorBanner, Loading, TextField, useLoad } from '../ui.tsx';
import { AppleProfilesTable, profileFieldNames, type ProfileItem } from './apple-profiles-table.tsx';
import { settingFieldNames, WinSettingsTable, type SettingRow } from './win-settings-table.tsx';

interface Draft {
  name: string;
  settings: SettingRow[];
  profiles: ProfileItem[];
}

export function PolicyEditPage({ platform, id }: { platform: Platform; id: string }) {
  const organizationId = useSession().organization.id;
  const editable = useCan()(`mdm.${platform}.policy.update`);
  const path = { organizationId, id };
  const policy = useLoad(() => unwrap(api.GET(`${POLICIES[platform]}/{id}`, { params: { path } })), [platform, id]);
  const [draft, setDraft] = useState<Draft>();
  const [failure, setFailure] = useState<Failure>();
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const back = `/policies/${platform}`;

  useEffect(() => {
    const p = policy.data as { name: string; settings?: SettingRow[]; profiles?: ProfileItem[] } | undefined;
    if (p) setDraft({ name: p.name, settings: p.settings ?? [], profiles: p.profiles ?? [] });
  }, [policy.data]);

  if (policy.loading && !policy.data) return <Loading />;
  if (!policy.data || !draft) {
    return (
      <>
        <ErrorBanner failure={policy.failure} />
        <Link href={back}>{t('policy.back')}</Link>
      </>
    );
  }
  const fields = failure?.fields ?? {};
  const content =
    platform === 'windows' ? (
      <WinSettingsTable rows={draft.settings} editable={editable} fields={fields} onChange={(settings) => setDraft({ ...draft, settings })} />
    ) : (
      <AppleProfilesTable items={draft.profiles} editable={editable} fields={fields} onChange={(profiles) => setDraft({ ...draft, profiles })} />
    );
  const title = t(platform === 'windows' ? 'policies.titleWindows' : 'policies.titleApple');

  return (
    <>
      <p class="crumbs">
        <Link href={back}>{title}</Link>
      </p>
      <h1>{t('policy.editTitle', { name: (policy.data as { name: string }).name })}</h1>
      {!editable ? (
        <>
          <p class="muted">{t('policy.readOnly')}</p>
          {content}
        </>
      ) : (
        <form
          class="form wide"
          noValidate
          onSubmit={async (e) => {
            e.preventDefault();
            setBusy(true);
            setFailure(undefined);
            setSaved(false);
            const body = platform === 'windows' ? { name: draft.name, settings: draft.settings } : { name: draft.name, profiles: draft.profiles };
            // Built for either platform's schema; the server validates every field.
            const r = await unwrap(api.PUT(`${POLICIES[platform]}/{id}`, { params: { path }, body: body as never }));
            setBusy(false);
            if (r.failure) return setFailure(r.failure);
            setSaved(true);
            policy.reload();
          }}
        >
          <ErrorBanner failure={failure} shownFields={['name', ...(platform === 'windows' ? settingFieldNames(draft.settings) : profileFieldNames(draft.profiles))]} />
          {saved && (
            <p class="banner success" role="status">
              {t('edit.saved')}
            </p>
          )}
          <TextField label={t('policies.name')} name="name" required value={draft.name} error={fields.name} onInput={(e) => setDraft({ ...draft, name: (e.target as HTMLInputElement).value })} />
          {content}
          <div class="actions">
            <button type="submit" disabled={busy}>
              {busy ? t('common.working') : t('edit.save')}
            </button>
            <button type="button" class="secondary" onClick={() => navigate(back)}>
              {t('common.cancel')}
            </button>
          </div>
        </form>
      )}
    </>
  );
}
