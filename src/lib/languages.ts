/** The languages of enrollment emails and pages (CONTRACT.md section 4, `language`). */
export const LANGUAGES = ['en', 'es', 'fr', 'de', 'it', 'pt'] as const;
export type Language = (typeof LANGUAGES)[number];
