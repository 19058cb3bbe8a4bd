/** The console's building blocks: labelled fields with their errors, lists' pager, dialogs, QR. */
import type { ComponentChildren, InputHTMLAttributes, SelectHTMLAttributes, TargetedEvent, TextareaHTMLAttributes } from 'preact';
import { useCallback, useEffect, useId, useRef, useState } from 'preact/hooks';
import QRCode from 'qrcode';
import type { Failure } from './api.ts';
import { t, type MessageKey } from './i18n.ts';

/** The attributes the console's fields use (Preact's own types are a union that Omit<> breaks). */
interface ControlProps<E extends HTMLElement> {
  name?: string;
  value?: string;
  defaultValue?: string;
  required?: boolean;
  disabled?: boolean;
  placeholder?: string;
  autoComplete?: string;
  spellcheck?: boolean;
  onInput?: (e: TargetedEvent<E, Event>) => void;
  onChange?: (e: TargetedEvent<E, Event>) => void;
}

interface InputProps extends ControlProps<HTMLInputElement> {
  type?: 'text' | 'email' | 'number' | 'password' | 'search' | 'date' | 'checkbox';
  checked?: boolean;
  defaultChecked?: boolean;
  list?: string;
  min?: number;
  max?: number;
  maxLength?: number;
  inputMode?: 'numeric' | 'text' | 'email';
}

interface FieldProps {
  label: string;
  /** The API's message for this field (error.data.errors), shown under it and read out with it. */
  error?: string | undefined;
  hint?: string | undefined;
}

function describedBy(id: string, error?: string, hint?: string): string | undefined {
  return [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
}

function FieldFoot({ id, error, hint }: { id: string; error?: string | undefined; hint?: string | undefined }) {
  return (
    <>
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </>
  );
}

export function TextField({ label, error, hint, ...input }: FieldProps & InputProps) {
  const id = useId();
  return (
    <div class={`field${error ? ' has-error' : ''}`}>
      <label for={id}>{label}</label>
      <input id={id} aria-invalid={error ? 'true' : undefined} aria-describedby={describedBy(id, error, hint)} {...(input as InputHTMLAttributes<HTMLInputElement>)} />
      <FieldFoot id={id} error={error} hint={hint} />
    </div>
  );
}

export function TextAreaField({ label, error, hint, ...area }: FieldProps & ControlProps<HTMLTextAreaElement> & { rows?: number }) {
  const id = useId();
  return (
    <div class={`field${error ? ' has-error' : ''}`}>
      <label for={id}>{label}</label>
      <textarea id={id} aria-invalid={error ? 'true' : undefined} aria-describedby={describedBy(id, error, hint)} {...(area as TextareaHTMLAttributes<HTMLTextAreaElement>)} />
      <FieldFoot id={id} error={error} hint={hint} />
    </div>
  );
}

export function SelectField({
  label,
  error,
  hint,
  options,
  defaultValue,
  ...select
}: FieldProps & ControlProps<HTMLSelectElement> & { options: Array<{ value: string; label: string }> }) {
  const id = useId();
  // Preact sets no defaultValue on a <select>: an uncontrolled one marks its option instead.
  return (
    <div class={`field${error ? ' has-error' : ''}`}>
      <label for={id}>{label}</label>
      <select id={id} aria-invalid={error ? 'true' : undefined} aria-describedby={describedBy(id, error, hint)} {...(select as SelectHTMLAttributes<HTMLSelectElement>)}>
        {options.map((o) => (
          <option key={o.value} value={o.value} selected={defaultValue !== undefined ? o.value === defaultValue : undefined}>
            {o.label}
          </option>
        ))}
      </select>
      <FieldFoot id={id} error={error} hint={hint} />
    </div>
  );
}

export function CheckboxField({ label, error, hint, ...input }: FieldProps & InputProps) {
  const id = useId();
  return (
    <div class={`field checkbox${error ? ' has-error' : ''}`}>
      <input id={id} aria-describedby={describedBy(id, error, hint)} {...(input as object)} type="checkbox" />
      <label for={id}>{label}</label>
      <FieldFoot id={id} error={error} hint={hint} />
    </div>
  );
}

/** The failure's message; field errors are shown next to their fields, the rest listed here. */
export function ErrorBanner({ failure, shownFields = [] }: { failure: Failure | undefined; shownFields?: string[] }) {
  if (!failure) return null;
  const rest = Object.entries(failure.fields).filter(([name]) => !shownFields.includes(name));
  return (
    <div class="banner error" role="alert">
      <strong>{messageOf(failure)}</strong>
      {rest.length > 0 && (
        <ul>
          {rest.map(([name, message]) => (
            <li key={name}>
              <code>{name || '(body)'}</code> {message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

const CODE_MESSAGES: Record<number, MessageKey> = {
  3000: 'error.validation',
  3001: 'error.notFound',
  4003: 'error.forbidden',
  4029: 'error.tooMany',
  5017: 'error.limit',
  5048: 'error.userExists',
  5050: 'error.plan',
  5146: 'error.notPending',
};

export function messageOf(failure: Failure): string {
  const key = CODE_MESSAGES[failure.code];
  return key ? t(key) : failure.code ? `${failure.message} (${failure.code})` : t('error.network');
}

export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <p class="empty-title">{title}</p>
      {children}
    </div>
  );
}

export function Loading() {
  return (
    <p class="loading" role="status">
      {t('common.loading')}
    </p>
  );
}

export interface PageInfo {
  page: number;
  totalPages: number;
  totalDocs: number;
  hasPrevPage: boolean;
  hasNextPage: boolean;
}

export function Pager({ info, onPage }: { info: PageInfo; onPage: (page: number) => void }) {
  return (
    <nav class="pager" aria-label={t('pager.label')}>
      <span class="pager-total">{t('pager.total', { n: info.totalDocs })}</span>
      <span class="pager-controls">
        <button type="button" class="secondary" disabled={!info.hasPrevPage} onClick={() => onPage(info.page - 1)}>
          {t('pager.prev')}
        </button>
        <span aria-live="polite">{t('pager.page', { page: info.page, pages: Math.max(1, info.totalPages) })}</span>
        <button type="button" class="secondary" disabled={!info.hasNextPage} onClick={() => onPage(info.page + 1)}>
          {t('pager.next')}
        </button>
      </span>
    </nav>
  );
}

/** A button that asks first, in a modal <dialog> (focus trapped, Escape cancels). */
export function ConfirmButton({ label, question, confirm, onConfirm, danger = true }: { label: string; question: string; confirm: string; onConfirm: () => Promise<void> | void; danger?: boolean }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const titleId = useId();
  return (
    <>
      <button type="button" class={danger ? 'danger' : ''} onClick={() => dialog.current?.showModal()}>
        {label}
      </button>
      <dialog ref={dialog} aria-labelledby={titleId}>
        <p id={titleId}>{question}</p>
        <div class="actions">
          <button type="button" class="secondary" onClick={() => dialog.current?.close()}>
            {t('common.cancel')}
          </button>
          <button
            type="button"
            class={danger ? 'danger' : ''}
            disabled={busy}
            onClick={async () => {
              setBusy(true);
              try {
                await onConfirm();
              } finally {
                setBusy(false);
                dialog.current?.close();
              }
            }}
          >
            {confirm}
          </button>
        </div>
      </dialog>
    </>
  );
}

export function CopyButton({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      class="secondary small"
      aria-label={label}
      onClick={async () => {
        await navigator.clipboard.writeText(text).catch(() => undefined);
        setCopied(true);
        setTimeout(() => setCopied(false), 2000);
      }}
    >
      {copied ? t('common.copied') : t('common.copy')}
    </button>
  );
}

/** The link as a QR code, drawn as SVG shapes (no inline script or style, no data: URL). */
export function QrCode({ text, label }: { text: string; label: string }) {
  const { size, data } = QRCode.create(text, { errorCorrectionLevel: 'M' }).modules;
  const quiet = 4;
  let d = '';
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) if (data[y * size + x]) d += `M${x + quiet} ${y + quiet}h1v1h-1z`;
  const full = size + quiet * 2;
  return (
    <svg class="qr" role="img" aria-label={label} viewBox={`0 0 ${full} ${full}`} shape-rendering="crispEdges">
      <rect width={full} height={full} fill="#fff" />
      <path d={d} fill="#000" />
    </svg>
  );
}

export function StateBadge({ state }: { state: string }) {
  return <span class={`badge state-${state.toLowerCase()}`}>{t(`state.${state}` as MessageKey)}</span>;
}

/** Loads data, reloads on demand; `failure` is the API's answer when it was not a success. */
export function useLoad<T>(load: () => Promise<{ data?: T; failure?: Failure }>, deps: unknown[]) {
  const [state, setState] = useState<{ data?: T; failure?: Failure; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (r) => live && setState({ ...r, loading: false }),
      () => live && setState({ failure: { status: 0, code: 0, message: '', fields: {} }, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { ...state, reload };
}
