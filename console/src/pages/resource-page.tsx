/** A resource's page: its list with pages and empty state, a create form, and removal per row. */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { Failure } from '../api.ts';
import { t } from '../i18n.ts';
import { useCan } from '../session.ts';
import { ConfirmButton, Empty, ErrorBanner, Loading, Pager, useLoad, type PageInfo } from '../ui.tsx';

export interface Column<T> {
  label: string;
  render: (item: T) => ComponentChildren;
}

export interface ResourcePageProps<T extends { id: string | number }> {
  title: string;
  intro?: string;
  emptyTitle: string;
  emptyHint: string;
  createPermission: string;
  /** The create form's opener, e.g. “Add a user”. */
  createLabel: string;
  removePermission?: string;
  load: (page: number) => Promise<{ data?: PageInfo & { items: T[] }; failure?: Failure }>;
  columns: Array<Column<T>>;
  /** The create form; calls done() after a success so the list reloads. */
  createForm: (done: () => void) => ComponentChildren;
  remove?: (item: T) => Promise<{ failure?: Failure }>;
  removeLabel?: string;
  removeQuestion?: (item: T) => string;
  canRemove?: (item: T) => boolean;
  /** Extra filters above the list; their changes go through `deps`. */
  filters?: ComponentChildren;
  deps?: unknown[];
  notice?: ComponentChildren;
}

export function ResourcePage<T extends { id: string | number }>(props: ResourcePageProps<T>) {
  const can = useCan();
  const [page, setPage] = useState(1);
  const [failure, setFailure] = useState<Failure>();
  const list = useLoad(() => props.load(page), [page, ...(props.deps ?? [])]);
  const removable = props.remove && props.removePermission && can(props.removePermission);
  return (
    <>
      <h1>{props.title}</h1>
      {props.intro && <p class="muted">{props.intro}</p>}
      {props.notice}
      {can(props.createPermission) && (
        <details class="card create">
          <summary>{props.createLabel}</summary>
          {props.createForm(() => {
            setPage(1);
            list.reload();
          })}
        </details>
      )}
      {props.filters}
      <ErrorBanner failure={failure ?? list.failure} />
      {list.loading && !list.data ? (
        <Loading />
      ) : list.data && list.data.items.length === 0 ? (
        <Empty title={props.emptyTitle}>{can(props.createPermission) && <p>{props.emptyHint}</p>}</Empty>
      ) : list.data ? (
        <>
          <table class="list" aria-busy={list.loading}>
            <caption class="visually-hidden">{props.title}</caption>
            <thead>
              <tr>
                {props.columns.map((c) => (
                  <th scope="col" key={c.label}>
                    {c.label}
                  </th>
                ))}
                {removable && (
                  <th scope="col">
                    <span class="visually-hidden">{t('common.actions')}</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((item) => (
                <tr key={item.id}>
                  {props.columns.map((c) => (
                    <td key={c.label} data-label={c.label}>
                      {c.render(item)}
                    </td>
                  ))}
                  {removable && (
                    <td class="row-actions">
                      {(props.canRemove?.(item) ?? true) && (
                        <ConfirmButton
                          label={props.removeLabel ?? t('common.delete')}
                          question={props.removeQuestion?.(item) ?? t('common.deleteQuestion')}
                          confirm={props.removeLabel ?? t('common.delete')}
                          onConfirm={async () => {
                            const r = await props.remove!(item);
                            setFailure(r.failure);
                            list.reload();
                          }}
                        />
                      )}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
          <Pager info={list.data} onPage={setPage} />
        </>
      ) : null}
    </>
  );
}

/** A create form's frame: submit, busy state, and the failure's message above the fields. */
export function CreateForm({ onSubmit, failure, shownFields, children, submitLabel }: { onSubmit: () => Promise<void>; failure: Failure | undefined; shownFields: string[]; children: ComponentChildren; submitLabel?: string }) {
  const [busy, setBusy] = useState(false);
  return (
    <form
      class="form"
      noValidate
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        try {
          await onSubmit();
        } finally {
          setBusy(false);
        }
      }}
    >
      <ErrorBanner failure={failure} shownFields={shownFields} />
      {children}
      <div class="actions">
        <button type="submit" disabled={busy}>
          {busy ? t('common.working') : (submitLabel ?? t('common.create'))}
        </button>
      </div>
    </form>
  );
}
