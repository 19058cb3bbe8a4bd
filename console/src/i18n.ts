/**
 * The console's words, in one catalogue (messages.ts): English is the reference, and Spanish
 * must name every key (the compiler checks). Dates and numbers follow the browser's locale.
 */
import { en, es, type MessageKey } from './messages.ts';

export const LANGUAGES = { en: 'English', es: 'Español' } as const;
export type Lang = keyof typeof LANGUAGES;
const CATALOGUE: Record<Lang, Record<MessageKey, string>> = { en, es };
const STORAGE_KEY = 'openroll.console.lang';

function initial(): Lang {
  const stored = localStorage.getItem(STORAGE_KEY);
  if (stored === 'en' || stored === 'es') return stored;
  return navigator.languages.some((l) => l.toLowerCase().startsWith('es')) ? 'es' : 'en';
}

let lang: Lang = initial();
document.documentElement.lang = lang;

export function currentLang(): Lang {
  return lang;
}

export function setLang(next: Lang): void {
  lang = next;
  localStorage.setItem(STORAGE_KEY, next);
  document.documentElement.lang = next;
}

/** The message for a key, with `{name}` placeholders filled in. */
export function t(key: MessageKey, vars: Record<string, string | number> = {}): string {
  return CATALOGUE[lang][key].replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = vars[name];
    return v === undefined ? `{${name}}` : typeof v === 'number' ? v.toLocaleString() : v;
  });
}

/** A plural message's base name: `unit.days` for the keys `unit.days.one` and `unit.days.other`. */
export type PluralKey = MessageKey extends infer K ? (K extends `${infer Base}.other` ? Base : never) : never;

/**
 * The form of a plural message that fits `n` in the current language (“1 day”, “2 days”), chosen
 * by Intl.PluralRules; a language without the exact form falls back to `.other`. `{n}` is filled in.
 */
export function tn(base: PluralKey, n: number, vars: Record<string, string | number> = {}): string {
  const exact = `${base}.${new Intl.PluralRules(lang).select(n)}`;
  const key = (exact in CATALOGUE[lang] ? exact : `${base}.other`) as MessageKey;
  return t(key, { n, ...vars });
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** A date in the browser's own locale and time zone; the exact ISO time in a tooltip. */
export function formatDate(iso: string | null | undefined): string {
  return iso ? dateTime.format(new Date(iso)) : '—';
}

export type { MessageKey };
