import { Type, type Static } from 'typebox';
import { validationError, type FieldError } from '../../errors.ts';
import { isBase64 } from '../../lib/base64.ts';
import { literals } from '../../lib/schemas.ts';

/**
 * A Windows policy's `settings`: the custom OMA-URI rows admins know from other MDMs
 * (CONTRACT.md section 6, "Settings a policy carries"). The schema holds the shape; what the
 * schema cannot say (the data fits its format) is checkSettingsData's, with the same 400 3000.
 */

export const WIN_SETTING_FORMATS = ['int', 'chr', 'bool', 'b64', 'xml', 'float'] as const;
export const WIN_SETTING_VERBS = ['Replace', 'Add'] as const;
export const MAX_SETTINGS = 1_000;

const LocUri = Type.String({
  minLength: 1,
  maxLength: 1_024,
  // A node of the device's tree, and nothing an XML element or the URI itself would split on.
  pattern: '^\\./(Device|User|Vendor)/[^\\s]*$',
  description: 'The OMA-URI: ./Device/..., ./User/... or ./Vendor/..., no whitespace',
});

export const WinSettingInput = Type.Object(
  {
    locUri: LocUri,
    format: literals(WIN_SETTING_FORMATS),
    data: Type.String({ maxLength: 65_536, description: 'The value, as the format reads it (int: an integer, bool: true/false, b64: base64)' }),
    verb: Type.Optional(literals(WIN_SETTING_VERBS)),
  },
  { additionalProperties: false },
);

export const WinSettingsInput = Type.Array(WinSettingInput, { maxItems: MAX_SETTINGS });

/** A setting as stored and shown: the verb is always spelled out (Replace when not given). */
export const WinSetting = Type.Object({
  locUri: Type.String(),
  format: literals(WIN_SETTING_FORMATS),
  data: Type.String(),
  verb: literals(WIN_SETTING_VERBS),
});

export type WinSettingView = Static<typeof WinSetting>;
type WinSettingBody = Static<typeof WinSettingInput>;

const INTEGER = /^[-+]?\d{1,20}$/;
const FLOAT = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** Why `data` does not fit `format`, or undefined when it does. */
function misfit(format: WinSettingBody['format'], data: string): string | undefined {
  switch (format) {
    case 'int':
      return INTEGER.test(data) ? undefined : 'must be an integer for format int';
    case 'bool':
      return data === 'true' || data === 'false' ? undefined : 'must be true or false for format bool';
    case 'b64':
      return isBase64(data) && data.replace(/=+$/, '').length % 4 !== 1 ? undefined : 'must be base64 for format b64';
    case 'float':
      return data.length <= 64 && FLOAT.test(data) ? undefined : 'must be a number for format float';
    default:
      return undefined;
  }
}

/**
 * The settings of a body, checked and ready to store: each `data` must fit its `format`
 * (400 3000 naming `body.settings.<row>.data` for every row that does not).
 */
export function toStoredSettings(settings: readonly WinSettingBody[]): WinSettingView[] {
  const errors: FieldError[] = [];
  settings.forEach((s, row) => {
    const message = misfit(s.format, s.data);
    if (message) errors.push({ path: `body.settings.${row}.data`, message });
  });
  if (errors.length > 0) throw validationError(errors);
  return settings.map((s) => ({ locUri: s.locUri, format: s.format, data: s.data, verb: s.verb ?? 'Replace' }));
}
