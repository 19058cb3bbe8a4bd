/** One MDM user's email, name, language and tags, changed through the API's PUT. */
import { useEffect, useState } from 'preact/hooks';
import { api, unwrap, type Failure } from '../api.ts';
import { t } from '../i18n.ts';
import { Link } from '../link.tsx';
import { navigate } from '../router.ts';
import { useCan, useSession } from '../session.ts';
import { Empty, ErrorBanner, Loading, SelectField, TextField, useLoad } from '../ui.tsx';
import { TOKEN_LANGUAGES } from './token-options.tsx';

const USER = '/v1/organizations/{organizationId}/mdm/users/{id}';
type Language = (typeof TOKEN_LANGUAGES)[number];

export function UserEditPage({ id }: { id: string }) {
  const organizationId = useSession().organization.id;
  const can = useCan();
  const user = useLoad(() => unwrap(api.GET(USER, { params: { path: { organizationId, id } } })), [id]);
  const [form, setForm] = useState<{ email: string; name: string; language: string; tags: string }>();
  const [failure, setFailure] = useState<Failure>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const u = user.data;
    if (u) setForm({ email: u.email, name: u.name, language: u.language ?? '', tags: u.tags.join(', ') });
  }, [user.data]);

  if (!can('mdm.global.mdmUser.update')) return <Empty title={t('error.forbidden')} />;
  if (user.loading && !user.data) return <Loading />;
  if (!user.data || !form) {
    return (
      <>
        <ErrorBanner failure={user.failure} />
        <Link href="/users">{t('user.back')}</Link>
      </>
    );
  }
  const value = (e: Event) => (e.target as HTMLInputElement).value;
  const fields = failure?.fields ?? {};
  return (
    <>
      <p class="crumbs">
        <Link href="/users">{t('users.title')}</Link>
      </p>
      <h1>{t('user.editTitle', { email: user.data.email })}</h1>
      <form
        class="form"
        noValidate
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setFailure(undefined);
          const body = {
            email: form.email.trim(),
            name: form.name,
            tags: form.tags
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean),
            // The API cannot set a language back to none: the empty choice is offered only while there is none.
            ...(form.language ? { language: form.language as Language } : {}),
          };
          const r = await unwrap(api.PUT(USER, { params: { path: { organizationId, id } }, body }));
          setBusy(false);
          if (r.failure) return setFailure(r.failure);
          navigate('/users');
        }}
      >
        <ErrorBanner failure={failure} shownFields={['email', 'name', 'language', 'tags', ...form.tags.split(',').map((_, i) => `tags.${i}`)]} />
        <TextField label={t('users.email')} name="email" type="email" required value={form.email} error={fields.email ?? (failure?.code === 5048 ? t('error.userExists') : undefined)} onInput={(e) => setForm({ ...form, email: value(e) })} />
        <TextField label={t('users.name')} name="name" value={form.name} error={fields.name} onInput={(e) => setForm({ ...form, name: value(e) })} />
        <SelectField
          label={t('users.language')}
          value={form.language}
          error={fields.language}
          options={[...(user.data.language ? [] : [{ value: '', label: t('create.languageDefault') }]), ...TOKEN_LANGUAGES.map((l) => ({ value: l, label: t(`lang.${l}`) }))]}
          onChange={(e) => setForm({ ...form, language: value(e) })}
        />
        <TextField
          label={t('user.tags')}
          name="tags"
          value={form.tags}
          hint={t('user.tagsHint')}
          error={fields.tags ?? Object.entries(fields).find(([k]) => k.startsWith('tags.'))?.[1]}
          onInput={(e) => setForm({ ...form, tags: value(e) })}
        />
        <div class="actions">
          <button type="submit" disabled={busy}>
            {busy ? t('common.working') : t('edit.save')}
          </button>
          <Link class="button secondary" href="/users">
            {t('common.cancel')}
          </Link>
        </div>
      </form>
    </>
  );
}
