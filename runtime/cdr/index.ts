/** Durable call detail records: the JSON-lines writer and the start-up reader. */
export { CdrWriter, attachCdr, CDR_FILE, type CdrWriterOptions, type CdrStats } from './writer.js';
export { readCdr, type CdrReadResult } from './reader.js';
