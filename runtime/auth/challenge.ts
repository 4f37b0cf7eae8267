/**
 * Reading 401/407 challenges (RFC 7616 §3.3, RFC 8760): one
 * WWW-Authenticate/Proxy-Authenticate value into a typed `Challenge`, and a
 * response's several values into the one challenge to answer per realm.
 */
import { parseAuthParams } from './auth-params.js';
import { algorithmRank, findAlgorithm, isSessionAlgorithm, type DigestAlgorithm, type Qop } from './digest-hash.js';
import {
  AuthMalformedError,
  AuthNoChallengeError,
  AuthUnsupportedAlgorithmError,
  AuthUnsupportedQopError,
  AuthUnsupportedSchemeError,
  err,
  ok,
  type AuthError,
  type Result,
} from './errors.js';

/** A Digest challenge we know how to answer. */
export interface Challenge {
  scheme: 'Digest';
  realm: string;
  nonce: string;
  /** Canonical spelling; MD5 when the challenge names none (RFC 7616 §3.3). */
  algorithm: DigestAlgorithm;
  /** The offered qop values we implement, in the server's order; empty for the RFC 2069 form. */
  qop: readonly Qop[];
  opaque: string | undefined;
  /** `stale=true`: the previous credentials were right, only the nonce aged (RFC 7616 §3.3). */
  stale: boolean;
  /** Every parameter as received, lower-case names (unknown ones included). */
  params: ReadonlyMap<string, string>;
}

function toQop(value: string): Qop | undefined {
  const lower = value.trim().toLowerCase();
  return lower === 'auth' || lower === 'auth-int' ? lower : undefined;
}

/**
 * Parse one WWW-Authenticate or Proxy-Authenticate header value.
 * Parameter names are case-insensitive, values may be tokens or quoted
 * strings (escapes and commas inside quotes allowed), unknown parameters are
 * kept in `params`.
 * @return the challenge, or PB_ERR_AUTH_MALFORMED / _UNSUPPORTED_SCHEME /
 *   _UNSUPPORTED_ALGORITHM / _UNSUPPORTED_QOP.
 */
export function parseChallenge(headerValue: string): Result<Challenge, AuthError> {
  const parsed = parseAuthParams(headerValue);
  if (!parsed.ok) return parsed;
  const { scheme, params } = parsed.value;
  if (scheme.toLowerCase() !== 'digest') {
    return err(new AuthUnsupportedSchemeError(`scheme ${scheme} is not supported`));
  }
  const realm = params.get('realm');
  if (realm === undefined) return err(new AuthMalformedError('challenge has no realm'));
  const nonce = params.get('nonce');
  if (!nonce) return err(new AuthMalformedError('challenge has no nonce'));
  const algorithmToken = params.get('algorithm') ?? 'MD5';
  const algorithm = findAlgorithm(algorithmToken);
  if (algorithm === undefined) {
    return err(new AuthUnsupportedAlgorithmError(`algorithm ${algorithmToken} is not supported`));
  }
  const qopParam = params.get('qop');
  const qop: Qop[] = [];
  if (qopParam !== undefined) {
    for (const value of qopParam.split(',')) {
      const known = toQop(value);
      if (known !== undefined && !qop.includes(known)) qop.push(known);
    }
    if (qop.length === 0) return err(new AuthUnsupportedQopError(`qop "${qopParam}" offers nothing supported`));
  }
  if (qop.length === 0 && isSessionAlgorithm(algorithm)) {
    return err(new AuthUnsupportedQopError(`${algorithm} needs a qop (its A1 covers the cnonce)`));
  }
  return ok({
    scheme: 'Digest',
    realm,
    nonce,
    algorithm,
    qop,
    opaque: params.get('opaque'),
    stale: params.get('stale')?.toLowerCase() === 'true',
    params,
  });
}

/**
 * Choose, from every WWW-Authenticate (or Proxy-Authenticate) value of one
 * response, the challenge to answer for each realm: the strongest algorithm
 * we support, whatever the order (SHA-256 over MD5: RFC 8760 has the UAC
 * take the topmost supported one unless local policy says otherwise, and
 * this is ours), the topmost among equals. Values we cannot use are skipped.
 * @return one challenge per realm in first-seen order, or
 *   PB_ERR_AUTH_NO_CHALLENGE (its `cause` is the first value's error).
 */
export function selectChallenges(headerValues: readonly string[]): Result<Challenge[], AuthError> {
  const byRealm = new Map<string, Challenge>();
  let firstError: AuthError | undefined;
  for (const value of headerValues) {
    const parsed = parseChallenge(value);
    if (!parsed.ok) {
      firstError ??= parsed.error;
      continue;
    }
    const challenge = parsed.value;
    const current = byRealm.get(challenge.realm);
    if (current === undefined || algorithmRank(challenge.algorithm) > algorithmRank(current.algorithm)) {
      byRealm.set(challenge.realm, challenge);
    }
  }
  if (byRealm.size === 0) {
    const reason = firstError ? `: ${firstError.message}` : '';
    return err(new AuthNoChallengeError(`no usable Digest challenge${reason}`, { cause: firstError }));
  }
  return ok([...byRealm.values()]);
}
