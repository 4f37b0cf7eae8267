/**
 * Errors of the media layer. Every failure has a stable `code`, so callers
 * switch on it rather than on the message.
 */

/** Every stable code a `MediaError` can carry. */
export type MediaErrorCode =
  | 'PB_ERR_NG_ERROR'
  | 'PB_ERR_NG_TIMEOUT'
  | 'PB_ERR_NG_MALFORMED'
  | 'PB_ERR_NG_CLOSED'
  | 'PB_ERR_MEDIA_UNAVAILABLE'
  | 'PB_ERR_MEDIA_BAD_CONFIG'
  | 'PB_ERR_TTS_FAILED';

/** Base class of every media failure; switch on `code`. */
export abstract class MediaError extends Error {
  abstract readonly code: MediaErrorCode;
}

/** rtpengine answered `result: error` (or another result that is not a success). */
export class NgCommandError extends MediaError {
  readonly code = 'PB_ERR_NG_ERROR';
  override readonly name = 'NgCommandError';
  /**
   * @param command - the NG command that failed.
   * @param reason - rtpengine's `error-reason` (or the unexpected result).
   */
  constructor(readonly command: string, readonly reason: string) {
    super(`rtpengine refused "${command}": ${reason}`);
  }
}

/** No reply within the timeout, retransmissions included. */
export class NgTimeoutError extends MediaError {
  readonly code = 'PB_ERR_NG_TIMEOUT';
  override readonly name = 'NgTimeoutError';
  /**
   * @param command - the NG command.
   * @param target - `host:port` of the rtpengine asked.
   * @param timeoutMs - how long the client waited.
   */
  constructor(readonly command: string, readonly target: string, readonly timeoutMs: number) {
    super(`rtpengine at ${target} did not answer "${command}" within ${timeoutMs} ms`);
  }
}

/** A reply carried our cookie but was not a bencoded dictionary with a `result`. */
export class NgMalformedReplyError extends MediaError {
  readonly code = 'PB_ERR_NG_MALFORMED';
  override readonly name = 'NgMalformedReplyError';
  /**
   * @param command - the NG command.
   * @param detail - what was wrong with the reply.
   */
  constructor(readonly command: string, detail: string) {
    super(`malformed rtpengine reply to "${command}": ${detail}`);
  }
}

/** The client was closed before (or while) the command was sent. */
export class NgClosedError extends MediaError {
  readonly code = 'PB_ERR_NG_CLOSED';
  override readonly name = 'NgClosedError';
  /** @param command - the NG command. */
  constructor(readonly command: string) {
    super(`NG client closed: "${command}" not answered`);
  }
}

/** No rtpengine instance can take the call (none configured, none answering). */
export class MediaUnavailableError extends MediaError {
  readonly code = 'PB_ERR_MEDIA_UNAVAILABLE';
  override readonly name = 'MediaUnavailableError';
}

/** A media setting cannot be used (e.g. a malformed `--rtpengine` value). */
export class MediaConfigError extends MediaError {
  readonly code = 'PB_ERR_MEDIA_BAD_CONFIG';
  override readonly name = 'MediaConfigError';
}

/** Speech synthesis failed (espeak-ng missing, exited non-zero, produced nothing). */
export class TtsError extends MediaError {
  readonly code = 'PB_ERR_TTS_FAILED';
  override readonly name = 'TtsError';
}
