/** Durable call detail records: the JSON-lines writer, the start-up reader and the recovery of lost calls. */
export { CdrWriter, attachCdr, CDR_FILE, HEARTBEAT_FILE, type CdrWriterOptions, type CdrStats } from './writer.js';
export { readCdr, type CdrReadResult } from './reader.js';
export { closeLostCalls, closeLostCallsDurably, lostCallCallback, sendLostCallbacks, LOST_CALL_MESSAGE, type LostCallbacksResult } from './recovery.js';
