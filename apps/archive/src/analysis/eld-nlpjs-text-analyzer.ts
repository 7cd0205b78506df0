import type { AnalyzeText, LanguageDetector, SentimentScorer } from './text-analysis';
import { createTextAnalyzer } from './text-analysis';

/**
 * The adapter behind the text analyser's ports: eld (language) and nlp.js (sentiment). Both load their data when
 * this is called (about 0.4 s each, once per process), so the archive loads it once at startup.
 */

/**
 * Languages nlp.js has a lexicon for but which are written without spaces between words: its tokenizers for them
 * are not word segmenters (Chinese yields no words at all, Thai is cut into fragments that hit the lexicon by
 * accident), so a score would be noise. They stay unscored.
 */
const UNSEGMENTED_LANGUAGES: ReadonlySet<string> = new Set(['zh', 'ja', 'th', 'lo', 'km', 'my']);

interface EldResult {
  language: string;
  isReliable(): boolean;
}
interface Eld {
  detect(text: string): EldResult;
}
interface NlpContainer {
  get(name: string): unknown;
  use(plugin: unknown): void;
}
interface NlpSentimentAnalyzer {
  process(input: { locale: string; text: string }): Promise<{ sentiment?: { score?: number; locale?: string } }>;
}

/** The medium eld database: 99.4% on tweet-length texts (eld's benchmark) at half the large one's memory. */
const ELD_ENTRY = 'eld/medium';

/** Loads eld and nlp.js and returns the analyser (createTextAnalyzer's rules over them). */
export async function loadTextAnalyzer(): Promise<AnalyzeText> {
  // eld is ESM-only; this module is compiled as CommonJS, so it is loaded with a real dynamic import.
  const { eld } = (await import(ELD_ENTRY)) as { eld: Eld };
  /* eslint-disable @typescript-eslint/no-require-imports -- nlp.js ships CommonJS without types */
  const { Container } = require('@nlpjs/core') as { Container: new () => NlpContainer };
  const { LangAll } = require('@nlpjs/lang-all') as { LangAll: unknown };
  const { SentimentAnalyzer } = require('@nlpjs/sentiment') as {
    SentimentAnalyzer: new (settings: { container: NlpContainer }) => NlpSentimentAnalyzer;
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
  const container = new Container();
  container.use(LangAll);
  const analyzer = new SentimentAnalyzer({ container });

  const detector: LanguageDetector = {
    detect(text) {
      const result = eld.detect(text);
      return { language: result.language, reliable: result.isReliable() };
    },
  };
  const scorer: SentimentScorer = {
    supports: (language) => !UNSEGMENTED_LANGUAGES.has(language) && container.get(`sentiment-${language}`) !== undefined,
    async score(language, text) {
      const { sentiment } = await analyzer.process({ locale: language, text });
      // A result for another locale, or none, is not this language's score: the text stays unscored.
      return sentiment?.locale === language && typeof sentiment.score === 'number' ? sentiment.score : undefined;
    },
  };
  return createTextAnalyzer({ detector, scorer });
}
