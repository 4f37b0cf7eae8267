/**
 * Twilio `<Say voice language>` values mapped to the nearest local espeak-ng
 * voice (https://www.twilio.com/docs/voice/twiml/say: `man`, `woman`,
 * `alice`, `Polly.<Name>[-Neural|-Generative]`, `Google.<lang>-<model>-<letter>`;
 * default voice `man`, default language `en-US`).
 *
 * | Twilio voice            | espeak-ng                                          |
 * |-------------------------|----------------------------------------------------|
 * | `man` (default)         | `<lang>+m3` (male variant)                         |
 * | `woman`                 | `<lang>+f3` (female variant)                       |
 * | `alice`                 | `<lang>+f2`                                        |
 * | `Polly.<Name>…`         | the name's language (POLLY below), `+m3` or `+f3`  |
 * | `Google.<lang>-…`       | `<lang>` from the name, `+f3` (gender not in name) |
 * | anything else           | as `man`, reported in `fallback`                   |
 *
 * The language picks the espeak-ng voice: LANGUAGES below for the tags that
 * differ, otherwise the tag's primary subtag when espeak-ng has it, otherwise
 * `en-us` (reported in `fallback`).
 */

/** What a `<Say>` voice and language resolve to. */
export interface ResolvedVoice {
  /** espeak-ng's `-v` argument: `<voice>+<variant>`. */
  espeak: string;
  /** The BCP 47 language spoken (the voice's own for Polly/Google names). */
  language: string;
  /** Set when the voice or language had no local equivalent: what was substituted and why. */
  fallback?: string;
}

/** Twilio language tags whose espeak-ng voice is not the lower-cased primary subtag. */
const LANGUAGES: Record<string, string> = {
  'en-us': 'en-us', 'en-gb': 'en-gb', 'en-au': 'en-gb', 'en-nz': 'en-gb', 'en-ie': 'en-gb', 'en-za': 'en-gb', 'en-in': 'en-gb',
  'en-gb-wls': 'en-gb', 'en-ca': 'en-us', 'en': 'en-us',
  'es-es': 'es', 'es-mx': 'es-419', 'es-us': 'es-419', 'fr-fr': 'fr-fr', 'fr-ca': 'fr-fr', 'fr-be': 'fr-be', 'fr-ch': 'fr-ch',
  'pt-br': 'pt-br', 'pt-pt': 'pt', 'zh-cn': 'cmn', 'cmn-cn': 'cmn', 'zh-tw': 'cmn', 'zh-hk': 'yue', 'yue-hk': 'yue', 'yue-cn': 'yue',
  'arb': 'ar', 'ar-xa': 'ar', 'ar-ae': 'ar', 'nb-no': 'nb', 'no-no': 'nb', 'cy-gb': 'cy', 'is-is': 'is', 'he-il': 'he', 'iw-il': 'he',
};

/** Primary subtags espeak-ng 1.51 (Debian 12) has a voice for. */
const ESPEAK_PRIMARY = new Set(
  ('af am an ar as az ba be bg bn bs ca cs cv cy da de el en eo es et eu fa fi fr ga gd gn gu he hi hr ht hu hy ia id is it ja ' +
    'ka kk kl kn ko kok ku ky la lb lt lv mi mk ml mr ms mt my nb ne nl om or pa pl pt ro ru sd si sk sl sq sr sv sw ta te th tk ' +
    'tn tr tt ug uk ur uz vi yue cmn').split(' '),
);

/** Amazon Polly voice names (Twilio's `Polly.<Name>`): gender and language. */
const POLLY: Record<string, ['m' | 'f', string]> = {
  Joanna: ['f', 'en-US'], Salli: ['f', 'en-US'], Kimberly: ['f', 'en-US'], Kendra: ['f', 'en-US'], Ivy: ['f', 'en-US'], Ruth: ['f', 'en-US'], Danielle: ['f', 'en-US'],
  Matthew: ['m', 'en-US'], Joey: ['m', 'en-US'], Justin: ['m', 'en-US'], Kevin: ['m', 'en-US'], Stephen: ['m', 'en-US'], Gregory: ['m', 'en-US'],
  Amy: ['f', 'en-GB'], Emma: ['f', 'en-GB'], Brian: ['m', 'en-GB'], Arthur: ['m', 'en-GB'], Nicole: ['f', 'en-AU'], Olivia: ['f', 'en-AU'], Russell: ['m', 'en-AU'],
  Raveena: ['f', 'en-IN'], Aditi: ['f', 'en-IN'], Kajal: ['f', 'en-IN'], Geraint: ['m', 'en-GB-WLS'], Aria: ['f', 'en-NZ'], Ayanda: ['f', 'en-ZA'],
  Celine: ['f', 'fr-FR'], 'Céline': ['f', 'fr-FR'], Lea: ['f', 'fr-FR'], 'Léa': ['f', 'fr-FR'], Mathieu: ['m', 'fr-FR'], Remi: ['m', 'fr-FR'], 'Rémi': ['m', 'fr-FR'],
  Chantal: ['f', 'fr-CA'], Gabrielle: ['f', 'fr-CA'], Liam: ['m', 'fr-CA'],
  Marlene: ['f', 'de-DE'], Vicki: ['f', 'de-DE'], Hans: ['m', 'de-DE'], Daniel: ['m', 'de-DE'],
  Conchita: ['f', 'es-ES'], Lucia: ['f', 'es-ES'], Enrique: ['m', 'es-ES'], Sergio: ['m', 'es-ES'], Mia: ['f', 'es-MX'], Andres: ['m', 'es-MX'],
  Lupe: ['f', 'es-US'], Penelope: ['f', 'es-US'], Miguel: ['m', 'es-US'], Pedro: ['m', 'es-US'],
  Carla: ['f', 'it-IT'], Bianca: ['f', 'it-IT'], Giorgio: ['m', 'it-IT'], Adriano: ['m', 'it-IT'],
  Camila: ['f', 'pt-BR'], Vitoria: ['f', 'pt-BR'], Ricardo: ['m', 'pt-BR'], Thiago: ['m', 'pt-BR'], Ines: ['f', 'pt-PT'], Cristiano: ['m', 'pt-PT'],
  Lotte: ['f', 'nl-NL'], Laura: ['f', 'nl-NL'], Ruben: ['m', 'nl-NL'], Mizuki: ['f', 'ja-JP'], Kazuha: ['f', 'ja-JP'], Takumi: ['m', 'ja-JP'],
  Seoyeon: ['f', 'ko-KR'], Zhiyu: ['f', 'cmn-CN'], Tatyana: ['f', 'ru-RU'], Maxim: ['m', 'ru-RU'], Astrid: ['f', 'sv-SE'], Elin: ['f', 'sv-SE'],
  Naja: ['f', 'da-DK'], Mads: ['m', 'da-DK'], Liv: ['f', 'nb-NO'], Ida: ['f', 'nb-NO'], Ewa: ['f', 'pl-PL'], Maja: ['f', 'pl-PL'], Jacek: ['m', 'pl-PL'], Jan: ['m', 'pl-PL'],
  Carmen: ['f', 'ro-RO'], Filiz: ['f', 'tr-TR'], Gwyneth: ['f', 'cy-GB'], Dora: ['f', 'is-IS'], Karl: ['m', 'is-IS'], Zeina: ['f', 'arb'], Hala: ['f', 'ar-AE'],
  Suvi: ['f', 'fi-FI'], Arlet: ['f', 'ca-ES'], Hannah: ['f', 'de-AT'], Hiujin: ['f', 'yue-CN'],
};

const VARIANT = { man: 'm3', woman: 'f3', alice: 'f2' } as const;

/** The espeak-ng voice for a language tag, and a note when it had to fall back. */
function espeakLanguage(language: string): { voice: string; fallback?: string } {
  const tag = language.trim().toLowerCase().replace(/_/g, '-');
  const mapped = LANGUAGES[tag];
  if (mapped !== undefined) return { voice: mapped };
  const primary = tag.split('-')[0] ?? '';
  if (ESPEAK_PRIMARY.has(primary)) return { voice: primary };
  return { voice: 'en-us', fallback: `no local voice for language "${language}": en-US spoken` };
}

/**
 * The local voice for a `<Say>`'s `voice` and `language` attributes.
 * @param voice - Twilio voice (default `man`)
 * @param language - BCP 47 tag (default `en-US`); Polly and Google names bring their own
 */
export function resolveVoice(voice = 'man', language = 'en-US'): ResolvedVoice {
  const notes: string[] = [];
  let variant: string = VARIANT.man;
  let lang = language;
  const v = voice.trim();
  const lower = v.toLowerCase();
  if (lower === 'man' || lower === 'woman' || lower === 'alice') {
    variant = VARIANT[lower];
  } else if (lower.startsWith('polly.')) {
    const name = v.slice(6).replace(/-(Neural|Generative|Standard|LongForm)$/i, '');
    const known = POLLY[name] ?? Object.entries(POLLY).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
    if (known === undefined) {
      notes.push(`unknown Polly voice "${v}": spoken as a female voice in ${language}`);
      variant = VARIANT.woman;
    } else {
      variant = known[0] === 'm' ? VARIANT.man : VARIANT.woman;
      lang = known[1];
    }
  } else if (lower.startsWith('google.')) {
    const m = /^google\.([a-z]{2,3}-[a-z0-9]{2,4})-/i.exec(v);
    if (m?.[1] !== undefined) lang = m[1];
    else notes.push(`Google voice "${v}" names no language: ${language} spoken`);
    variant = VARIANT.woman;
  } else {
    notes.push(`unknown voice "${v}": spoken as "man"`);
  }
  const l = espeakLanguage(lang);
  if (l.fallback !== undefined) notes.push(l.fallback);
  return { espeak: `${l.voice}+${variant}`, language: lang, ...(notes.length > 0 ? { fallback: notes.join('; ') } : {}) };
}
