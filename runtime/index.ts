/**
 * The package's entry point (`import … from 'patchbay'`): the WASM SIP
 * parser inline and in a worker pool, and the `<Sip>` target checks. The
 * browser-safe wrapper is `patchbay/embed`; the daemon is the `patchbay`
 * command (`patchbay serve`).
 */
export { createParser, type CreateParserOptions, type Flavour } from './wasm/load.js';
export type { WasmParser } from './wasm/parser.js';
export type { MessageView, ParseFailure } from './wasm/message-view.js';
export { createInlineEngine, EngineBatchError, EngineClosedError, type ParseEngine, type InlineParseEngine, type InlineEngineOptions, type BatchResult } from './wasm/engine.js';
export { createPooledEngine, PooledEngine, type PooledEngineOptions } from './pool/pool.js';
export { PoolBusyError, PoolClosedError, PoolWorkerMissingError, PoolBatchError } from './pool/errors.js';
export { validateSipTarget, validateHeaderValue, type SipTarget, type SipTargetResult, type HeaderValueResult } from './sip/sip-target.js';
