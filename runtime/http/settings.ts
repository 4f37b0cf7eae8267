/**
 * Settings of the HTTP side that are not in runtime/config.ts yet: the API
 * credentials and the CDR directory, read from the environment.
 *
 * TODO(config): move these to runtime/config.ts (flags `--account-sid`,
 * `--auth-token`, `--cdr-dir`, `--cdr-max-bytes`, `--cdr-keep`) and delete
 * this file.
 */
import type { ApiCredentials } from './auth.js';

/** What the HTTP side needs beyond `config.http`. */
export interface HttpSettings {
  /** Undefined: the REST API and event stream answer 503 (not configured). */
  credentials?: ApiCredentials;
  /** Undefined: no CDR is written or restored. */
  cdrDir?: string;
  /** Rotate calls.jsonl beyond this many bytes. */
  cdrMaxBytes?: number;
  /** Rotated CDR files kept. */
  cdrKeep?: number;
}

/** A setting that cannot be used. */
export class HttpSettingsError extends Error {
  readonly code = 'PB_ERR_HTTP_SETTINGS';
  constructor(message: string) {
    super(message);
    this.name = 'HttpSettingsError';
  }
}

function positiveInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) throw new HttpSettingsError(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

/**
 * Read PATCHBAY_ACCOUNT_SID, PATCHBAY_AUTH_TOKEN, PATCHBAY_CDR_DIR,
 * PATCHBAY_CDR_MAX_BYTES and PATCHBAY_CDR_KEEP. // TODO(config)
 * @throws HttpSettingsError when only one credential is set or a value is malformed
 */
export function httpSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): HttpSettings {
  const accountSid = env.PATCHBAY_ACCOUNT_SID ?? '';
  const authToken = env.PATCHBAY_AUTH_TOKEN ?? '';
  const settings: HttpSettings = {};
  if (accountSid !== '' || authToken !== '') {
    if (accountSid === '' || authToken === '') throw new HttpSettingsError('PATCHBAY_ACCOUNT_SID and PATCHBAY_AUTH_TOKEN must be set together');
    if (!/^AC[0-9a-fA-F]{32}$/.test(accountSid)) throw new HttpSettingsError(`PATCHBAY_ACCOUNT_SID must be AC followed by 32 hex digits, got ${JSON.stringify(accountSid)}`);
    settings.credentials = { accountSid, authToken };
  }
  if (env.PATCHBAY_CDR_DIR) settings.cdrDir = env.PATCHBAY_CDR_DIR;
  const maxBytes = positiveInt(env, 'PATCHBAY_CDR_MAX_BYTES');
  if (maxBytes !== undefined) settings.cdrMaxBytes = maxBytes;
  const keep = positiveInt(env, 'PATCHBAY_CDR_KEEP');
  if (keep !== undefined) settings.cdrKeep = keep;
  return settings;
}
