import { useState } from 'preact/hooks';
import { api, unwrap, type Failure } from '../api.ts';
import { formatDate, t } from '../i18n.ts';
import { useSession } from '../session.ts';
import { CopyButton, SelectField, TextField } from '../ui.tsx';
import { CreateForm, ResourcePage } from './resource-page.tsx';

const KEYS = '/v1/organizations/{organizationId}/api-keys';
const ROLES = ['admin', 'developer', 'viewer'] as const;
type Role = (typeof ROLES)[number];

/** A new key's secret, shown this once: the server keeps only its hash. */
function NewSecret({ secret, onDismiss }: { secret: string; onDismiss: () => void }) {
  return (
    <div class="banner success secret" role="status">
      <p>
        <strong>{t('keys.secretTitle')}</strong> {t('keys.secretHint')}
      </p>
      <p class="code-row">
        <code class="secret-value">{secret}</code>
        <CopyButton text={secret} label={t('keys.copySecret')} />
      </p>
      <button type="button" class="secondary small" onClick={onDismiss}>
        {t('keys.secretDone')}
      </button>
    </div>
  );
}

function KeyForm({ done, onSecret }: { done: () => void; onSecret: (s: string) => void }) {
  const organizationId = useSession().organization.id;
  const [form, setForm] = useState({ name: '', role: 'viewer' as Role, expires: '' });
  const [failure, setFailure] = useState<Failure>();
  return (
    <CreateForm
      failure={failure}
      shownFields={['name', 'role', 'expiresAt']}
      onSubmit={async () => {
        const body = { name: form.name, role: form.role, ...(form.expires ? { expiresAt: new Date(`${form.expires}T23:59:59`).toISOString() } : {}) };
        const r = await unwrap(api.POST(KEYS, { params: { path: { organizationId } }, body }));
        setFailure(r.failure);
        if (r.data) {
          onSecret(r.data.key);
          setForm({ name: '', role: 'viewer', expires: '' });
          done();
        }
      }}
    >
      <TextField label={t('keys.name')} required value={form.name} error={failure?.fields.name} onInput={(e) => setForm({ ...form, name: (e.target as HTMLInputElement).value })} />
      <SelectField
        label={t('keys.role')}
        value={form.role}
        error={failure?.fields.role ?? failure?.fields.permissions}
        options={ROLES.map((r) => ({ value: r, label: t(`role.${r}`) }))}
        onChange={(e) => setForm({ ...form, role: (e.target as HTMLSelectElement).value as Role })}
      />
      <TextField label={t('keys.expires')} type="date" value={form.expires} hint={t('keys.expiresHint')} error={failure?.fields.expiresAt} onInput={(e) => setForm({ ...form, expires: (e.target as HTMLInputElement).value })} />
    </CreateForm>
  );
}

export function ApiKeysPage() {
  const session = useSession();
  const organizationId = session.organization.id;
  const [secret, setSecret] = useState<string>();
  return (
    <ResourcePage
      title={t('keys.title')}
      intro={t('keys.intro')}
      emptyTitle={t('keys.empty')}
      emptyHint={t('keys.emptyHint')}
      createLabel={t('keys.add')}
      createPermission="base.organization.apiKey.create"
      removePermission="base.organization.apiKey.remove"
      notice={secret && <NewSecret secret={secret} onDismiss={() => setSecret(undefined)} />}
      load={(page) => unwrap(api.GET(KEYS, { params: { path: { organizationId }, query: { page } } }))}
      columns={[
        { label: t('keys.name'), render: (k) => (k.id === session.key.id ? `${k.name} (${t('keys.thisOne')})` : k.name) },
        { label: t('keys.prefix'), render: (k) => <code>{k.prefix}…</code> },
        { label: t('keys.role'), render: (k) => (k.role ? t(`role.${k.role}` as 'role.admin') : k.permissions.join(', ')) },
        // A revoked key still has its own expiry: the state says revoked, the date stays a date.
        { label: t('keys.state'), render: (k) => t(k.revokedAt ? 'keys.revoked' : k.expiresAt && Date.parse(k.expiresAt) <= Date.now() ? 'keys.expired' : 'keys.active') },
        { label: t('keys.expires'), render: (k) => (k.expiresAt ? <time dateTime={k.expiresAt}>{formatDate(k.expiresAt)}</time> : t('keys.never')) },
        { label: t('common.created'), render: (k) => <time dateTime={k.createdAt}>{formatDate(k.createdAt)}</time> },
      ]}
      createForm={(done) => <KeyForm done={done} onSecret={setSecret} />}
      canRemove={(k) => !k.revokedAt}
      remove={(k) => unwrap(api.DELETE(`${KEYS}/{id}`, { params: { path: { organizationId, id: k.id } } }))}
      removeLabel={t('keys.revoke')}
      removeQuestion={(k) => (k.id === session.key.id ? t('keys.revokeSelf') : t('keys.revokeQuestion', { name: k.name }))}
    />
  );
}
