import type { Sentiment, SentimentLabel } from '../domain/transcript';

/**
 * Language and sentiment of one customer text (issue 13, "Analysis"). Pure: the libraries (eld for the language,
 * nlp.js for the sentiment) sit behind the two small ports below, so the rules here are tested with fixed samples.
 */

/** What a language detector says about a text. */
export interface LanguageDetection {
  /** ISO 639-1, or empty when nothing was detected. */
  readonly language: string;
  /** The detector's own verdict on whether the detection can be trusted (enough n-grams, clear margin). */
  readonly reliable: boolean;
}

/** Port: detects the language of a text (eld). */
export interface LanguageDetector {
  detect(text: string): LanguageDetection;
}

/** Port: scores the sentiment of a text in a language (nlp.js). */
export interface SentimentScorer {
  /** Whether the scorer has a lexicon for the language (ISO 639-1) and can cut its text into words. */
  supports(language: string): boolean;
  /**
   * The library's score: the sum of its lexicon's word polarities (negative below 0, positive above); undefined when
   * the library did not score the text in this language after all.
   */
  score(language: string, text: string): Promise<number | undefined>;
}

/** Analyses one text; never throws for any string, and never scores a language it cannot score. */
export type AnalyzeText = (text: string) => Promise<Sentiment>;

/**
 * Below this many letters (Unicode letters; a Chinese character counts as one) a text is too short for its language
 * to be detected reliably: "ok", "hi", "Gracias" or "Not good" are each detected as some language, often a wrong
 * one (eld says "pl" for "ok", "ca" for "hi"), so they stay unscored rather than scored in the wrong lexicon. With 8
 * letters "Thank you" is the shortest English sample eld still calls reliable.
 */
export const MIN_LETTERS_FOR_DETECTION = 8;

/**
 * A score strictly between -NEUTRAL_BAND and +NEUTRAL_BAND is neutral. The lexicons weigh a word between -1 and 1
 * (SentiCon, used for en, es, de ...) or -5 and 5 (AFINN, used for ru ...), so a sum this small is one faint word or
 * words that cancel out.
 */
export const NEUTRAL_BAND = 0.1;

/** The longest text analysed, in characters; a longer one is analysed by its beginning (bounds the work per text). */
export const MAX_ANALYSED_CHARS = 4_000;

const LETTER = /\p{L}/gu;

/** The label of a library score, by {@link NEUTRAL_BAND}. */
export function labelOf(score: number): SentimentLabel {
  if (score >= NEUTRAL_BAND) return 'positive';
  if (score <= -NEUTRAL_BAND) return 'negative';
  return 'neutral';
}

/**
 * Creates the text analyser over a detector and a scorer:
 * - empty text, or fewer than {@link MIN_LETTERS_FOR_DETECTION} letters: nothing (no language, unscored);
 * - a detection the detector itself calls unreliable: nothing;
 * - a detected language the scorer does not support: the language only, unscored (never scored as English);
 * - otherwise the language, the score and its label ({@link labelOf}).
 */
export function createTextAnalyzer(ports: { detector: LanguageDetector; scorer: SentimentScorer }): AnalyzeText {
  return async (input) => {
    const text = input.length > MAX_ANALYSED_CHARS ? input.slice(0, MAX_ANALYSED_CHARS) : input;
    const letters = text.match(LETTER)?.length ?? 0;
    if (letters < MIN_LETTERS_FOR_DETECTION) return {};
    const detection = ports.detector.detect(text);
    if (detection.language === '' || !detection.reliable) return {};
    const language = detection.language;
    if (!ports.scorer.supports(language)) return { language };
    const score = await ports.scorer.score(language, text);
    if (score === undefined) return { language };
    return { language, score, label: labelOf(score) };
  };
}
