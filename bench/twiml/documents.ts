/**
 * The TwiML documents `parse-twiml.bench.ts` measures, each with what parseTwiml must make of it, so
 * the suite refuses to time a document that does not parse the way a call would use it.
 *
 * - `one-sip`: the smallest useful document, one `<Dial><Sip>` (what most SIP trunk apps return).
 * - `ten-sip`: one `<Dial>` with every attribute that takes effect without media and the maximum of
 *   10 `<Sip>` nouns, each with x-headers in its URI and every noun attribute (url, method,
 *   statusCallback, statusCallbackEvent, statusCallbackMethod, username, password).
 * - `media-verbs`: `<Say>`, `<Play>`, `<Pause>`, `<Redirect>`: two unsupported-verb warnings (12200).
 * - `voice-response`: a typical forwarding document written by the official `twilio` helper
 *   (`twiml.VoiceResponse`, a devDependency): XML declaration, attributes as the helper serialises
 *   them, `&amp;` escapes in URLs.
 */

/** Name of one measured document. */
export type TwimlDocumentName = 'one-sip' | 'ten-sip' | 'media-verbs' | 'voice-response';

/** A document and the shape parseTwiml must give it. */
export interface TwimlBenchDocument {
  name: TwimlDocumentName;
  /** The XML text, as the webhook response body would hold it. */
  xml: string;
  /** Verb kinds parseTwiml must return, in order. */
  verbs: string[];
  /** `<Sip>` nouns of the first `<Dial>`, when there is one. */
  sipNouns: number;
  /** Number of warnings parseTwiml must return. */
  warnings: number;
}

const ONE_SIP =
  '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<Response><Dial><Sip>sip:alice@pbx.example.com</Sip></Dial></Response>';

/** The `<Dial>` attributes that take effect without media (none of them warns). */
const DIAL_ATTRS = [
  'action="https://app.example.com/dial-status?leg=1&amp;tenant=42"',
  'method="POST"',
  'timeout="25"',
  'timeLimit="3600"',
  'hangupOnStar="false"',
  'callerId="+15550100"',
  'answerOnBridge="true"',
  'ringTone="us"',
  'referUrl="https://app.example.com/refer"',
  'referMethod="POST"',
  'sequential="true"',
].join(' ');

function tenSip(): string {
  const nouns: string[] = [];
  for (let i = 0; i < 10; i++) {
    const attrs = [
      `url="https://app.example.com/screen?target=${i}"`,
      'method="POST"',
      `statusCallback="https://app.example.com/status?target=${i}&amp;tenant=42"`,
      'statusCallbackEvent="initiated ringing answered completed"',
      'statusCallbackMethod="POST"',
      `username="trunk${i}"`,
      `password="s3cret-${i}"`,
    ].join(' ');
    const uri =
      `sip:agent${i}@pbx${i}.example.com:5060;transport=tcp` +
      `?X-Tenant=42&amp;X-Queue=support-${i}&amp;X-Priority=high`;
    nouns.push(`    <Sip ${attrs}>${uri}</Sip>`);
  }
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Response>\n  <Dial ${DIAL_ATTRS}>\n${nouns.join('\n')}\n  </Dial>\n</Response>\n`
  );
}

const MEDIA_VERBS =
  '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<Response>\n' +
  '  <Say voice="Polly.Joanna" language="en-US">Thanks for calling. Please hold while we connect you.</Say>\n' +
  '  <Play loop="2">https://cdn.example.com/hold-music.mp3</Play>\n' +
  '  <Pause length="2"/>\n' +
  '  <Redirect method="POST">https://app.example.com/voice/next?step=2</Redirect>\n' +
  '</Response>\n';

/** Builds the helper-written document: the `twilio` package is loaded only here, in setup. */
async function voiceResponse(): Promise<string> {
  const { default: twilio } = await import('twilio');
  const response = new twilio.twiml.VoiceResponse();
  const dial = response.dial({
    action: 'https://app.example.com/voice/dial-status?call=1&tenant=42',
    method: 'POST',
    timeout: 20,
    callerId: '+15550100',
    answerOnBridge: true,
  });
  for (const [i, host] of ['desk.example.com', 'mobile.example.com', 'voicemail.example.com'].entries()) {
    dial.sip(
      {
        statusCallback: `https://app.example.com/voice/leg-status?leg=${i}`,
        statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
        statusCallbackMethod: 'POST',
      },
      `sip:alice@${host};transport=tls?X-Account=ACME&X-Leg=${i}`,
    );
  }
  return response.toString();
}

/**
 * Builds every measured document.
 * @returns the documents, in the order the suites are printed
 */
export async function buildDocuments(): Promise<TwimlBenchDocument[]> {
  return [
    { name: 'one-sip', xml: ONE_SIP, verbs: ['dial'], sipNouns: 1, warnings: 0 },
    { name: 'ten-sip', xml: tenSip(), verbs: ['dial'], sipNouns: 10, warnings: 0 },
    { name: 'media-verbs', xml: MEDIA_VERBS, verbs: ['unsupported', 'unsupported', 'pause', 'redirect'], sipNouns: 0, warnings: 2 },
    { name: 'voice-response', xml: await voiceResponse(), verbs: ['dial'], sipNouns: 3, warnings: 0 },
  ];
}

/** Names of the documents, in print order; `register()` needs them before any document is built. */
export const TWIML_DOCUMENT_NAMES: readonly TwimlDocumentName[] = ['one-sip', 'ten-sip', 'media-verbs', 'voice-response'];
