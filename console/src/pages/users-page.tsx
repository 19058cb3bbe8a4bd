import { useState } from 'preact/hooks';
import { api, unwrap, type Failure } from '../api.ts';
import { formatDate, t } from '../i18n.ts';
import { Link } from '../link.tsx';
import { useCan, useSession } from '../session.ts';
import { SelectField, TextField } from '../ui.tsx';
import { CreateForm, ResourcePage } from './resource-page.tsx';
import { TOKEN_LANGUAGES } from './token-options.tsx';

const USERS = '/v1/organizations/{organizationId}/mdm/users';

function UserForm({ done }: { done: () => void }) {
  const organizationId = useSession().organization.id;
  const [form, setForm] = useState({ email: '', name: '', language: '' });
  const [failure, setFailure] = useState<Failure>();
  const value = (e: Event) => (e.target as HTMLInputElement).value;
  return (
    <CreateForm
      failure={failure}
      shownFields={['email', 'name', 'language']}
      onSubmit={async () => {
        const body = { email: form.email.trim(), name: form.name, ...(form.language ? { language: form.language as (typeof TOKEN_LANGUAGES)[number] } : {}) };
        const r = await unwrap(api.POST(USERS, { params: { path: { organizationId } }, body }));
        setFailure(r.failure);
        if (!r.failure) {
          setForm({ email: '', name: '', language: '' });
          done();
        }
      }}
    >
      <TextField label={t('users.email')} type="email" required value={form.email} error={failure?.fields.email ?? (failure?.code === 5048 ? t('error.userExists') : undefined)} onInput={(e) => setForm({ ...form, email: value(e) })} />
      <TextField label={t('users.name')} value={form.name} error={failure?.fields.name} onInput={(e) => setForm({ ...form, name: value(e) })} />
      <SelectField
        label={t('users.language')}
        value={form.language}
        error={failure?.fields.language}
        options={[{ value: '', label: t('create.languageDefault') }, ...TOKEN_LANGUAGES.map((l) => ({ value: l, label: t(`lang.${l}`) }))]}
        onChange={(e) => setForm({ ...form, language: value(e) })}
      />
    </CreateForm>
  );
}

export function UsersPage() {
  const organizationId = useSession().organization.id;
  const mayEdit = useCan()('mdm.global.mdmUser.update');
  const [search, setSearch] = useState('');
  const [applied, setApplied] = useState('');
  return (
    <ResourcePage
      title={t('users.title')}
      emptyTitle={applied ? t('users.emptySearch') : t('users.empty')}
      emptyHint={t('users.emptyHint')}
      createLabel={t('users.add')}
      createPermission="mdm.global.mdmUser.create"
      removePermission="mdm.global.mdmUser.remove"
      deps={[applied]}
      load={(page) => unwrap(api.GET(USERS, { params: { path: { organizationId }, query: { page, ...(applied ? { search: applied } : {}) } } }))}
      columns={[
        { label: t('users.email'), render: (u) => (mayEdit ? <Link href={`/users/${u.id}`}>{u.email}</Link> : u.email) },
        { label: t('users.name'), render: (u) => u.name || '—' },
        { label: t('users.language'), render: (u) => (u.language ? t(`lang.${u.language}` as 'lang.en') : '—') },
        { label: t('common.created'), render: (u) => <time dateTime={u.createdAt}>{formatDate(u.createdAt)}</time> },
      ]}
      createForm={(done) => <UserForm done={done} />}
      remove={(u) => unwrap(api.DELETE(`${USERS}/{id}`, { params: { path: { organizationId, id: u.id } } }))}
      removeQuestion={(u) => t('users.deleteQuestion', { email: u.email })}
      filters={
        <form
          class="filters compact"
          role="search"
          onSubmit={(e) => {
            e.preventDefault();
            setApplied(search.trim());
          }}
        >
          <TextField label={t('users.search')} type="search" value={search} onInput={(e) => setSearch((e.target as HTMLInputElement).value)} />
          <div class="filter-actions">
            <button type="submit">{t('users.searchButton')}</button>
          </div>
        </form>
      }
    />
  );
}
