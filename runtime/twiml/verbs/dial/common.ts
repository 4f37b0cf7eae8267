/**
 * Attributes shared by the `<Dial>` nouns (Twilio's `<Number>`, `<Client>`
 * and `<Sip>` pages: https://www.twilio.com/docs/voice/twiml/number and
 * its siblings).
 */
import { SCHEMA_WARNING, type Attrs } from '../../element.js';
import type { NounCommon, StatusCallbackEvent } from '../../types.js';

/** The events a statusCallbackEvent may list. */
export const STATUS_EVENTS: readonly StatusCallbackEvent[] = ['initiated', 'ringing', 'answered', 'completed'];

/** Attributes that need media (answering machine detection): accepted, warned, ignored. */
const AMD_ATTRS = [
  'machineDetection', 'machineDetectionTimeout', 'machineDetectionSpeechThreshold',
  'machineDetectionSpeechEndThreshold', 'machineDetectionSilenceTimeout',
  'amdStatusCallback', 'amdStatusCallbackMethod',
];

/**
 * Read url, method, statusCallback, statusCallbackEvent and
 * statusCallbackMethod.
 * @param methodCode  warning for an invalid `method` (13221 Number, 13241 Sip)
 */
export function readCommon(a: Attrs, methodCode: number): NounCommon {
  const statusCallback = a.str('statusCallback');
  const events = a.list('statusCallbackEvent', STATUS_EVENTS, SCHEMA_WARNING);
  const out: NounCommon = {
    method: a.method('method', methodCode),
    statusCallbackEvent: events ?? (statusCallback !== undefined ? ['completed'] : []),
    statusCallbackMethod: a.method('statusCallbackMethod', SCHEMA_WARNING),
  };
  const url = a.str('url');
  if (url !== undefined) out.url = url.trim();
  if (statusCallback !== undefined) {
    out.statusCallback = statusCallback.trim();
    if (out.statusCallbackEvent.length === 0) out.statusCallbackEvent = ['completed'];
  }
  return out;
}

/** Accept the machine-detection attributes with a warning that they need media. */
export function readAmd(a: Attrs): void {
  for (const name of AMD_ATTRS) {
    if (a.str(name) !== undefined) a.warn(SCHEMA_WARNING, `${name} is unsupported without media; ignored`);
  }
}
