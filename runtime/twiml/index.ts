/**
 * TwiML document layer: parseTwiml and its types.
 */
export { parseTwiml, ROOT_NOT_RESPONSE } from './parse.js';
export { PARSE_FAILURE, SCHEMA_WARNING, type TwimlElement, type ParseContext } from './element.js';
export { VERBS, UNSUPPORTED_VERBS, DIAL_NOUNS, UNSUPPORTED_NOUNS, MAX_NOUNS } from './registry.js';
export type * from './types.js';
