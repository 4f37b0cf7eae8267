/**
 * The package's entry point (`import … from 'patchbay'`): the WASM SIP
 * parser inline and in a worker pool, `MessageView` over a parsed message,
 * the `<Sip>` target checks, and the daemon (`startDaemon`, with its config
 * and logger). The browser-safe wrapper is `patchbay/embed`; the command is
 * `patchbay` (`patchbay serve`).
 */
export { createParser, type CreateParserOptions, type Flavour } from './wasm/load.js';
export { WasmParser, DEFAULT_LIMITS, type ParserLimits } from './wasm/parser.js';
export { MessageView, type ParseFailure } from './wasm/message-view.js';
export { errorInfo, type AbiErrorInfo } from './wasm/abi.js';
export { createInlineEngine, EngineBatchError, EngineClosedError, type ParseEngine, type InlineParseEngine, type InlineEngineOptions, type BatchResult } from './wasm/engine.js';
export { createPooledEngine, PooledEngine, type PooledEngineOptions } from './pool/pool.js';
export { PoolBusyError, PoolClosedError, PoolWorkerMissingError, PoolBatchError } from './pool/errors.js';
export {
  validateSipTarget, validateHeaderValue, sipUriChecker,
  type SipTarget, type SipTargetResult, type HeaderValueResult, type SipTransport, type SipRegion, type UriFailure, type UriError, type UriHeader,
} from './sip/sip-target.js';
export { readSipUri, NO_URI_LIMITS, type SipUri, type SipUriResult, type SipUriLimits } from './sip/uri.js';
export { startDaemon, type Daemon, type DaemonHooks, type DaemonStats } from './daemon.js';
export { defaultConfig, loadConfig, ConfigError, type Config, type ListenConfig, type TwimlConfig, type EgressProfile } from './config.js';
export { createLogger, type Logger, type LogLevel, type LogSink } from './log.js';
