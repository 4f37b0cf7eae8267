/**
 * Errors of the sip layer. They escape only for bugs: anything sourced
 * from a webhook is validated before it reaches a builder, so a builder that still sees an unsafe value refuses to emit it.
 */

/** Stable codes of {@link SipBuildError}. */
export type SipBuildErrorCode =
  /** CR, LF, NUL or another control character in a header name or value, method, URI or reason. */
  | 'PB_ERR_SIP_HEADER_INJECTION'
  /** A header name that is not an RFC 3261 §25.1 token. */
  | 'PB_ERR_SIP_HEADER_NAME'
  /** A method that is not a token, or a Request-URI with whitespace. */
  | 'PB_ERR_SIP_START_LINE'
  /** A status code outside 100-699. */
  | 'PB_ERR_SIP_STATUS';

/** An outgoing message that must not be put on the wire. */
export class SipBuildError extends Error {
  /** Stable machine-readable code. */
  readonly code: SipBuildErrorCode;
  /** The header name (or start-line part) at fault. */
  readonly field: string;

  /**
   * @param code   what is wrong
   * @param field  which header name or start-line part
   * @param message  human-readable detail
   */
  constructor(code: SipBuildErrorCode, field: string, message: string) {
    super(message);
    this.name = 'SipBuildError';
    this.code = code;
    this.field = field;
  }
}
