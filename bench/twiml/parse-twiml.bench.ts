/**
 * twiml/parse-twiml: what `parseTwiml` (runtime/twiml) costs on typical webhook answers
 * (`documents.ts`), next to fast-xml-parser alone on the same text, the floor under it: parseTwiml
 * checks the text with `XMLValidator`, parses it with `XMLParser` (preserveOrder), builds its element
 * tree, then reads every verb and noun.
 *
 * One suite per document, one group per suite; the baseline is the floor, so the ratio column
 * reads how many times slower than fast-xml-parser's parse each row is.
 *
 * - `(floor) fast-xml-parser parse`: `XMLParser.parse` with the options of runtime/twiml/xml.ts.
 * - `fast-xml-parser validate+parse`: `XMLValidator.validate` then the same parse: the XML work
 *   parseTwiml does before building its tree.
 * - `parseTwiml, no URI validator`: parseTwiml without `validateSipUri` (every `<Sip>` accepted as
 *   written).
 * - `parseTwiml + WASM validateSipTarget`: what the daemon runs: `validateSipUri` wired to
 *   runtime/sip/sip-target.ts `validateSipTarget` on the inline WASM parser (release build), wrapped
 *   as test/unit/twiml/sip.test.ts does.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { sipUriChecker } from '../../runtime/sip/sip-target.js';
import { XML_OPTIONS } from '../../runtime/twiml/xml.js';
import { parseTwiml, type ParseTwimlOptions } from '../../runtime/twiml/index.js';
import { createParser } from '../../runtime/wasm/load.js';
import type { BenchSuite, BenchTask } from '../lib/types.js';
import { buildDocuments, TWIML_DOCUMENT_NAMES, type TwimlBenchDocument, type TwimlDocumentName } from './documents.js';


/** Everything the suites share, built once by the first `setup()`. */
interface Prepared {
  documents: TwimlBenchDocument[];
  daemonOptions: ParseTwimlOptions;
  xml: XMLParser;
}

let prepared: Promise<Prepared> | undefined;

/** `validateSipUri` as the daemon wires it: the WASM validator, its failure mapped to a SipUriCheck. */
function daemonOptions(): ParseTwimlOptions {
  const parser = createParser({ flavour: 'release' });
  return { validateSipUri: sipUriChecker(parser) };
}

async function prepare(): Promise<Prepared> {
  return { documents: await buildDocuments(), daemonOptions: daemonOptions(), xml: new XMLParser(XML_OPTIONS) };
}

/** Refuses to measure a document that does not parse into what a call would run. */
function checkDocument(doc: TwimlBenchDocument, options: ParseTwimlOptions): void {
  const r = parseTwiml(doc.xml, options);
  if (!r.ok) throw new Error(`twiml/${doc.name}: parseTwiml fails: ${JSON.stringify(r.error)}`);
  const kinds = r.value.verbs.map((verb) => verb.kind);
  const first = r.value.verbs[0];
  const sipNouns = first?.kind === 'dial' ? first.nouns.filter((noun) => noun.kind === 'sip').length : 0;
  if (kinds.join() !== doc.verbs.join() || sipNouns !== doc.sipNouns || r.value.warnings.length !== doc.warnings) {
    throw new Error(
      `twiml/${doc.name}: got verbs [${kinds.join()}], ${sipNouns} <Sip>, warnings ${JSON.stringify(r.value.warnings)}; ` +
        `expected [${doc.verbs.join()}], ${doc.sipNouns} <Sip>, ${doc.warnings} warnings`,
    );
  }
}

function buildTasks(shared: Prepared, name: TwimlDocumentName): BenchTask[] {
  const doc = shared.documents.find((candidate) => candidate.name === name);
  if (doc === undefined) throw new Error(`TwiML document ${name} is missing`);
  checkDocument(doc, shared.daemonOptions);
  checkDocument(doc, {});
  const { xml } = doc;
  const { xml: parser, daemonOptions: options } = shared;
  return [
    { name: '(floor) fast-xml-parser parse', fn: () => parser.parse(xml), reference: true },
    { name: 'fast-xml-parser validate+parse', fn: () => XMLValidator.validate(xml) === true && parser.parse(xml) },
    { name: 'parseTwiml, no URI validator', fn: () => parseTwiml(xml) },
    { name: 'parseTwiml + WASM validateSipTarget', fn: () => parseTwiml(xml, options) },
  ];
}

function createSuite(name: TwimlDocumentName): BenchSuite {
  const suite: BenchSuite = {
    name: `twiml/${name}`,
    baselineLabel: 'fast-xml-parser parse alone (floor)',
    tasks: [],
    async setup(): Promise<void> {
      prepared ??= prepare();
      suite.tasks = buildTasks(await prepared, name);
    },
  };
  return suite;
}

/**
 * Registers one suite per document: `twiml/one-sip`, `twiml/ten-sip`, `twiml/media-verbs` and
 * `twiml/voice-response` (`npm run bench -- twiml` runs them alone).
 * @returns the suites
 */
export function register(): BenchSuite[] {
  return TWIML_DOCUMENT_NAMES.map(createSuite);
}
