/**
 * Errors of the transaction layer. Misuse by the TU (a bug) throws; a
 * response the state machine does not allow is returned as a value,
 * because it can race with the network (a CANCEL or Timer H may end the
 * transaction just before the TU answers).
 */

/** Stable codes of {@link TransactionError}. */
export type TransactionErrorCode =
  /** ACK never opens a client transaction (RFC 3261 §17.1.1.3, §13.2.2.4): use `write`. */
  | 'PB_ERR_TX_ACK'
  /** The response is not allowed in the transaction's state (e.g. after a final response). */
  | 'PB_ERR_TX_STATE'
  /** The layer is closed. */
  | 'PB_ERR_TX_CLOSED'
  /** The response cannot be serialized safely (a control character in a value): a 500 went instead, or the transaction ended. */
  | 'PB_ERR_TX_UNSENDABLE';

/** A transaction-layer failure. */
export class TransactionError extends Error {
  /** Stable machine-readable code. */
  readonly code: TransactionErrorCode;

  /**
   * @param code     what went wrong
   * @param message  human-readable detail
   */
  constructor(code: TransactionErrorCode, message: string) {
    super(message);
    this.name = 'TransactionError';
    this.code = code;
  }
}

/** Result of `ServerTx.respond`. */
export type RespondResult = { ok: true } | { ok: false; error: TransactionError };
