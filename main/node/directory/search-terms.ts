// Search across scripts (issue 22): how the directory mirror's and the case store's FTS5 indexes see text, and how what
// a user types becomes an FTS5 expression over it. Both sides go through the same functions, so that they always meet.
//
// - Latin: case and diacritics do not matter (André is found by "andre"), except that the Nordic letters æ, ø and å
//   are letters of their own: "ås" finds Ås and not As, "as" finds As and not Ås. (SQLite's own remove_diacritics
//   folded å to a; æ and ø have no decomposition and were always distinct.)
// - Bengali: a word is its letters with their vowel signs and virama (combining marks are part of the word, never a
//   break); zero-width joiners inside a conjunct are dropped on both sides.
// - Chinese (and Japanese kana): a run of these characters is indexed as overlapping bigrams, one per character, the
//   run's last character alone: 张伟明 → 张伟 伟明 明. Any substring of the run is then a phrase of consecutive grams
//   ("伟明" is the gram 伟明; "张伟明" the phrase 张伟 伟明), and one character a prefix of the gram at its place
//   ("伟"* meets 伟明, "明"* meets 明).
//
// The indexes are built with `unicode61 remove_diacritics 0` over the terms written here: the tokenizer only splits
// at the spaces between them and folds case.

/** Characters indexed as grams: Han, Hiragana, Katakana, Bopomofo (written without spaces between words). */
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Bopomofo}]+/u;
const CJK_SPLIT = /([\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Bopomofo}]+)/u;
/** A word: letters, digits and the marks that belong to them (Bengali vowel signs, virama, nukta). */
const WORD = /[\p{L}\p{N}\p{M}]+/gu;
/** A Latin letter with the combining marks after it (NFD); a ring above an a is å, which is kept. */
const LATIN_MARKED = /(\p{Script=Latin})([\u0300-\u036f]+)/gu;
const unmarked = (_: string, letter: string, marks: string) =>
  (letter === 'a' || letter === 'A') && marks.includes('\u030a') ? `${letter}\u030a` : letter;

/**
 * Lower case, Latin diacritics removed (but å kept), zero-width joiners dropped; NFKC (a full-width Ａ typed with a
 * Chinese input method is an A), as the index stores it.
 */
export function foldText(text: string): string {
  // Most of a directory is printable ASCII: nothing to normalize.
  if (!/[^\x20-\x7e]/u.test(text)) return text.toLowerCase();
  return text
    .normalize('NFKD')
    .replace(/[\u200c\u200d]/gu, '')
    .replace(LATIN_MARKED, unmarked)
    .normalize('NFC')
    .toLowerCase();
}

/** A CJK run's grams: each character with the next, the last alone. */
function gramsOf(run: string): string[] {
  const chars = [...run];
  return chars.map((c, i) => (i + 1 < chars.length ? c + chars[i + 1] : c));
}

/** The pieces of a word: CJK runs and what lies between them. */
const piecesOf = (word: string) => word.split(CJK_SPLIT).filter(Boolean);

/** The words of a text as the index splits them (folded): what decides whether a query has anything to look for. */
export const wordsOf = (text: string | undefined): string[] => foldText(text ?? '').match(WORD) ?? [];

/** The terms a text is indexed as, in order. */
export function termsOf(text: string | undefined): string[] {
  const folded = foldText(text ?? '');
  const words = folded.match(WORD) ?? [];
  if (!CJK.test(folded)) return words;
  return words.flatMap((word) => piecesOf(word).flatMap((piece) => (CJK.test(piece) ? gramsOf(piece) : piece)));
}

/** A text as an index column holds it. */
export const indexTextOf = (text: string | undefined): string => termsOf(text).join(' ');

const HAN_WORD = /^\p{Script=Han}+$/u;
/** A title before a name, as the directory shows it ("Dr.", "Prof."). */
const TITLE = /^\p{L}{1,5}\.(?:\s+|$)/u;

/**
 * A person's name as an index column holds it, its first term the first word of the name itself: a title before it
 * ("Dr.") is indexed after it, so that a name that begins with what is typed ranks first (rankedMatchesOf) with or
 * without one. A name written in Han characters is read family name first and without spaces (张伟明); entries and
 * requests stored before that was the shown order give it given names first (伟明 张): the family-first reading is
 * indexed first, so that the whole name typed as it is written is found, and ranks as a name that begins with it.
 */
export function nameTextOf(name: string | undefined): string {
  let rest = (name ?? '').trim();
  let titles = '';
  for (let title = TITLE.exec(rest); title; title = TITLE.exec(rest)) {
    titles += ` ${title[0]}`;
    rest = rest.slice(title[0].length);
  }
  const terms = termsOf(rest);
  if (CJK.test(rest)) {
    const words = rest.split(/\s+/u);
    if (words.length > 1 && words.every((w) => HAN_WORD.test(w)))
      terms.unshift(...termsOf(words.at(-1)! + words.slice(0, -1).join('')));
  }
  if (titles) terms.push(...termsOf(titles));
  return terms.join(' ');
}

/**
 * What the user typed as FTS5 terms, each to be found (ANDed by the caller): a word of Latin, Bengali or another
 * script as a quoted prefix, a CJK run as the phrase of its grams (one character: the prefix of a gram). Only
 * letters, digits and marks reach the quotes, so what is typed is never read as FTS5 syntax. [] when nothing is
 * typed that could be found.
 */
export function queryTermsOf(text: string | undefined): string[] {
  return wordsOf(text).flatMap((word) =>
    piecesOf(word).map((piece) => {
      if (!CJK.test(piece)) return `"${piece}"*`;
      const grams = gramsOf(piece);
      return grams.length === 1 ? `"${piece}"*` : `"${grams.slice(0, -1).join(' ')}"`;
    }),
  );
}

/** A filter's value (a specialty, a language) as the phrase of its terms in order; undefined when it has none. */
export function phraseOf(text: string): string | undefined {
  const terms = termsOf(text);
  return terms.length > 0 ? `"${terms.join(' ')}"` : undefined;
}
