import { useState } from 'preact/hooks';
import { api, unwrap, type Failure } from '../api.ts';
import { formatDate, t } from '../i18n.ts';
import { useSession } from '../session.ts';
import { SelectField, TextField } from '../ui.tsx';
import { CreateForm, ResourcePage } from './resource-page.tsx';

const VPP = '/v1/organizations/{organizationId}/mdm/apple/enterprise/vpp/locations';
const DEVICE_PLATFORMS = ['ios', 'macos', 'tvos', 'visionos'] as const;

function VppForm({ done }: { done: () => void }) {
  const organizationId = useSession().organization.id;
  const [form, setForm] = useState({ name: '', country: '', platform: 'ios' as (typeof DEVICE_PLATFORMS)[number] });
  const [failure, setFailure] = useState<Failure>();
  return (
    <CreateForm
      failure={failure}
      shownFields={['name', 'config.countryISO2ACode', 'config.defaultPlatform']}
      onSubmit={async () => {
        const body = { name: form.name, config: { countryISO2ACode: form.country.trim(), defaultPlatform: form.platform } };
        const r = await unwrap(api.POST(VPP, { params: { path: { organizationId } }, body }));
        setFailure(r.failure);
        if (!r.failure) {
          setForm({ name: '', country: '', platform: 'ios' });
          done();
        }
      }}
    >
      <TextField label={t('vpp.name')} required value={form.name} error={failure?.fields.name} onInput={(e) => setForm({ ...form, name: (e.target as HTMLInputElement).value })} />
      <TextField
        label={t('vpp.country')}
        required
        maxLength={2}
        placeholder="US"
        value={form.country}
        hint={t('vpp.countryHint')}
        error={failure?.fields['config.countryISO2ACode']}
        onInput={(e) => setForm({ ...form, country: (e.target as HTMLInputElement).value })}
      />
      <SelectField
        label={t('vpp.platform')}
        value={form.platform}
        error={failure?.fields['config.defaultPlatform']}
        options={DEVICE_PLATFORMS.map((p) => ({ value: p, label: p }))}
        onChange={(e) => setForm({ ...form, platform: (e.target as HTMLSelectElement).value as (typeof DEVICE_PLATFORMS)[number] })}
      />
    </CreateForm>
  );
}

export function VppLocationsPage() {
  const organizationId = useSession().organization.id;
  return (
    <ResourcePage
      title={t('vpp.title')}
      intro={t('vpp.intro')}
      emptyTitle={t('vpp.empty')}
      emptyHint={t('vpp.emptyHint')}
      createLabel={t('vpp.add')}
      createPermission="mdm.apple.vppLocation.create"
      removePermission="mdm.apple.vppLocation.remove"
      load={(page) => unwrap(api.GET(VPP, { params: { path: { organizationId }, query: { page } } }))}
      columns={[
        { label: t('vpp.name'), render: (v) => v.name },
        { label: t('vpp.country'), render: (v) => String((v.config as Record<string, unknown>).countryISO2ACode ?? '—') },
        { label: t('vpp.platform'), render: (v) => String((v.config as Record<string, unknown>).defaultPlatform ?? '—') },
        { label: t('common.created'), render: (v) => <time dateTime={v.createdAt}>{formatDate(v.createdAt)}</time> },
      ]}
      createForm={(done) => <VppForm done={done} />}
      remove={(v) => unwrap(api.DELETE(`${VPP}/{id}`, { params: { path: { organizationId, id: v.id } } }))}
      removeQuestion={(v) => t('vpp.deleteQuestion', { name: v.name })}
    />
  );
}
