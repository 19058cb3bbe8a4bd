/** The languages of enrollment emails and pages (CONTRACT.md section 4, `language`). */
export const LANGUAGES = ['en', 'es', 'fr', 'de', 'it', 'pt'] as const;
export type Language = (typeof LANGUAGES)[number];

/** Stored languages are text; only the route schemas' values are ever written. */
export function isLanguage(value: string): value is Language {
  return (LANGUAGES as readonly string[]).includes(value);
}
