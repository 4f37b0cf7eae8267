/**
 * Static registry of the `<Dial>` nouns this gateway dials, and the Twilio
 * nouns it recognises but cannot serve.
 */
import type { ParseContext, TwimlElement } from '../../element.js';
import type { DialNoun, Result, TwimlError } from '../../types.js';
import * as client from './client.js';
import * as number from './number.js';
import * as sip from './sip.js';

/** A noun parser module. */
export interface NounModule {
  parse(el: TwimlElement, ctx: ParseContext): Result<DialNoun, TwimlError>;
}

/** Dialable nouns by tag. */
export const DIAL_NOUNS: Readonly<Record<string, NounModule>> = {
  Sip: sip,
  Number: number,
  Client: client,
};

/** Twilio `<Dial>` nouns that need media or services this gateway lacks. */
export const UNSUPPORTED_NOUNS: readonly string[] = ['Conference', 'Queue', 'Application', 'WhatsApp', 'Sim'];

/** Maximum number of Number/Sip/Client nouns in one Dial. */
export const MAX_NOUNS = 10;
