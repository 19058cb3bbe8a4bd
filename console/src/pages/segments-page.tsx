import { useState } from 'preact/hooks';
import { api, unwrap, type Failure } from '../api.ts';
import { formatDate, t } from '../i18n.ts';
import { useSession } from '../session.ts';
import { SelectField, TextField, useLoad } from '../ui.tsx';
import { CreateForm, ResourcePage } from './resource-page.tsx';

const SEGMENTS = '/v1/organizations/{organizationId}/segments';

function SegmentForm({ done }: { done: () => void }) {
  const organizationId = useSession().organization.id;
  const [name, setName] = useState('');
  const [parentId, setParentId] = useState('');
  const [failure, setFailure] = useState<Failure>();
  const parents = useLoad(() => unwrap(api.GET(SEGMENTS, { params: { path: { organizationId }, query: { limit: 500 } } })), []);
  return (
    <CreateForm
      failure={failure}
      shownFields={['name', 'parentId']}
      onSubmit={async () => {
        const r = await unwrap(api.POST(SEGMENTS, { params: { path: { organizationId } }, body: { name, ...(parentId ? { parentId: Number(parentId) } : {}) } }));
        setFailure(r.failure);
        if (!r.failure) {
          setName('');
          setParentId('');
          parents.reload();
          done();
        }
      }}
    >
      <TextField label={t('segments.name')} required value={name} error={failure?.fields.name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
      <SelectField
        label={t('segments.parent')}
        value={parentId}
        error={failure?.fields.parentId}
        options={[{ value: '', label: t('create.none') }, ...(parents.data?.items ?? []).map((s) => ({ value: String(s.id), label: s.name }))]}
        onChange={(e) => setParentId((e.target as HTMLSelectElement).value)}
      />
    </CreateForm>
  );
}

export function SegmentsPage() {
  const organizationId = useSession().organization.id;
  return (
    <ResourcePage
      title={t('segments.title')}
      intro={t('segments.intro')}
      emptyTitle={t('segments.empty')}
      emptyHint={t('segments.emptyHint')}
      createLabel={t('segments.add')}
      createPermission="base.organization.segment.create"
      removePermission="base.organization.segment.remove"
      load={(page) => unwrap(api.GET(SEGMENTS, { params: { path: { organizationId }, query: { page } } }))}
      columns={[
        { label: t('segments.id'), render: (s) => s.id },
        { label: t('segments.name'), render: (s) => s.name },
        { label: t('segments.parent'), render: (s) => s.parentId ?? '—' },
        { label: t('common.created'), render: (s) => <time dateTime={s.createdAt}>{formatDate(s.createdAt)}</time> },
      ]}
      createForm={(done) => <SegmentForm done={done} />}
      remove={(s) => unwrap(api.DELETE(`${SEGMENTS}/{id}`, { params: { path: { organizationId, id: s.id } } }))}
      removeQuestion={(s) => t('segments.deleteQuestion', { name: s.name })}
    />
  );
}
