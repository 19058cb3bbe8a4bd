import { useState } from 'preact/hooks';
import { api, unwrap, type Failure } from '../api.ts';
import { formatDate, t } from '../i18n.ts';
import { POLICIES, type Platform } from '../platform.ts';
import { Link } from '../link.tsx';
import { useSession } from '../session.ts';
import { TextField } from '../ui.tsx';
import { CreateForm, ResourcePage } from './resource-page.tsx';

function PolicyForm({ platform, done }: { platform: Platform; done: () => void }) {
  const organizationId = useSession().organization.id;
  const [name, setName] = useState('');
  const [failure, setFailure] = useState<Failure>();
  return (
    <CreateForm
      failure={failure}
      shownFields={['name']}
      onSubmit={async () => {
        const r = await unwrap(api.POST(POLICIES[platform], { params: { path: { organizationId } }, body: { name } }));
        setFailure(r.failure);
        if (!r.failure) {
          setName('');
          done();
        }
      }}
    >
      <TextField label={t('policies.name')} required value={name} error={failure?.fields.name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
    </CreateForm>
  );
}

export function PoliciesPage({ platform }: { platform: Platform }) {
  const organizationId = useSession().organization.id;
  return (
    <ResourcePage<{ id: string; name: string; version: number; updatedAt: string }>
      key={platform}
      title={t(platform === 'windows' ? 'policies.titleWindows' : 'policies.titleApple')}
      intro={t('policies.intro')}
      emptyTitle={t('policies.empty')}
      emptyHint={t('policies.emptyHint')}
      createLabel={t('policies.add')}
      createPermission={`mdm.${platform}.policy.create`}
      removePermission={`mdm.${platform}.policy.remove`}
      deps={[platform]}
      load={(page) => unwrap(api.GET(POLICIES[platform], { params: { path: { organizationId }, query: { page } } }))}
      columns={[
        { label: t('policies.name'), render: (p) => <Link href={`/policies/${platform}/${p.id}`}>{p.name}</Link> },
        { label: t('policies.version'), render: (p) => p.version },
        { label: t('common.updated'), render: (p) => <time dateTime={p.updatedAt}>{formatDate(p.updatedAt)}</time> },
      ]}
      createForm={(done) => <PolicyForm platform={platform} done={done} />}
      remove={(p) => unwrap(api.DELETE(`${POLICIES[platform]}/{id}`, { params: { path: { organizationId, id: p.id } } }))}
      removeQuestion={(p) => t('policies.deleteQuestion', { name: p.name })}
    />
  );
}
