/**
 * Results and errors of the auth layer: expected failures
 * (a malformed header, a wrong password, a stale nonce) come back as
 * `Result` values carrying an `AuthError`; nothing here throws for bad input.
 */

/** A value or the reason there is none. */
export type Result<T, E> = { ok: true; value: T } | { ok: false; error: E };

/** Wrap a success. */
export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

/** Wrap a failure. */
export function err<E>(error: E): { ok: false; error: E } {
  return { ok: false, error };
}

/** Every stable code an `AuthError` can carry. */
export type AuthErrorCode =
  | 'PB_ERR_AUTH_MALFORMED'
  | 'PB_ERR_AUTH_UNSUPPORTED_SCHEME'
  | 'PB_ERR_AUTH_UNSUPPORTED_ALGORITHM'
  | 'PB_ERR_AUTH_UNSUPPORTED_QOP'
  | 'PB_ERR_AUTH_NO_CHALLENGE'
  | 'PB_ERR_AUTH_NO_CREDENTIALS'
  | 'PB_ERR_AUTH_REJECTED'
  | 'PB_ERR_AUTH_REALM_MISMATCH'
  | 'PB_ERR_AUTH_URI_MISMATCH'
  | 'PB_ERR_AUTH_BAD_NONCE'
  | 'PB_ERR_AUTH_STALE_NONCE'
  | 'PB_ERR_AUTH_REPLAY'
  | 'PB_ERR_AUTH_UNKNOWN_USER'
  | 'PB_ERR_AUTH_BAD_RESPONSE'
  | 'PB_ERR_AUTH_BAD_CIDR';

/** Base class of every auth failure; switch on `code`. */
export abstract class AuthError extends Error {
  abstract readonly code: AuthErrorCode;
}

/** A header or parameter that does not follow the RFC 7616 §3.3/§3.4 grammar. */
export class AuthMalformedError extends AuthError {
  readonly code = 'PB_ERR_AUTH_MALFORMED';
  override readonly name = 'AuthMalformedError';
}

/** A scheme other than Digest (Basic, Bearer, …). */
export class AuthUnsupportedSchemeError extends AuthError {
  readonly code = 'PB_ERR_AUTH_UNSUPPORTED_SCHEME';
  override readonly name = 'AuthUnsupportedSchemeError';
}

/** A digest algorithm we do not implement (SHA-512-256, AKAv1-MD5, …). */
export class AuthUnsupportedAlgorithmError extends AuthError {
  readonly code = 'PB_ERR_AUTH_UNSUPPORTED_ALGORITHM';
  override readonly name = 'AuthUnsupportedAlgorithmError';
}

/** No offered qop value we implement, or a `-sess` algorithm without qop. */
export class AuthUnsupportedQopError extends AuthError {
  readonly code = 'PB_ERR_AUTH_UNSUPPORTED_QOP';
  override readonly name = 'AuthUnsupportedQopError';
}

/** A 401/407 without one challenge we can answer. */
export class AuthNoChallengeError extends AuthError {
  readonly code = 'PB_ERR_AUTH_NO_CHALLENGE';
  override readonly name = 'AuthNoChallengeError';
}

/** No credentials configured for the challenged realm. */
export class AuthNoCredentialsError extends AuthError {
  readonly code = 'PB_ERR_AUTH_NO_CREDENTIALS';
  override readonly name = 'AuthNoCredentialsError';
}

/** The same challenge came back after we answered it: the credentials were refused. */
export class AuthRejectedError extends AuthError {
  readonly code = 'PB_ERR_AUTH_REJECTED';
  override readonly name = 'AuthRejectedError';
}

/** Credentials for a realm other than the one the verifier protects. */
export class AuthRealmMismatchError extends AuthError {
  readonly code = 'PB_ERR_AUTH_REALM_MISMATCH';
  override readonly name = 'AuthRealmMismatchError';
}

/** The digest `uri` is not the request's Request-URI (RFC 7616 §3.4.6). */
export class AuthUriMismatchError extends AuthError {
  readonly code = 'PB_ERR_AUTH_URI_MISMATCH';
  override readonly name = 'AuthUriMismatchError';
}

/** A nonce we did not issue (bad signature, wrong realm or algorithm, from the future). */
export class AuthBadNonceError extends AuthError {
  readonly code = 'PB_ERR_AUTH_BAD_NONCE';
  override readonly name = 'AuthBadNonceError';
}

/** Right credentials, expired nonce: re-challenge with `stale=true`. */
export class AuthStaleNonceError extends AuthError {
  readonly code = 'PB_ERR_AUTH_STALE_NONCE';
  override readonly name = 'AuthStaleNonceError';
}

/** A nonce count already seen for this nonce. */
export class AuthReplayError extends AuthError {
  readonly code = 'PB_ERR_AUTH_REPLAY';
  override readonly name = 'AuthReplayError';
}

/** The lookup knows no such user in that realm. */
export class AuthUnknownUserError extends AuthError {
  readonly code = 'PB_ERR_AUTH_UNKNOWN_USER';
  override readonly name = 'AuthUnknownUserError';
}

/** The digest response does not match (wrong password, tampered request). */
export class AuthBadResponseError extends AuthError {
  readonly code = 'PB_ERR_AUTH_BAD_RESPONSE';
  override readonly name = 'AuthBadResponseError';
}

/** An ACL entry that is not an IPv4/IPv6 address or CIDR block. */
export class AuthBadCidrError extends AuthError {
  readonly code = 'PB_ERR_AUTH_BAD_CIDR';
  override readonly name = 'AuthBadCidrError';
}
