import { describe, expect, it } from 'vitest';
import { filterOf, rankedMatchesOf } from './mirror-terms.ts';
import { foldText, indexTextOf, nameTextOf, phraseOf, queryTermsOf, termsOf, wordsOf } from './search-terms.ts';

describe('search terms across scripts', () => {
  it('folds case and Latin diacritics, but keeps æ, ø and å letters of their own', () => {
    expect(foldText('André Müller-Lüdenscheidt')).toBe('andre muller-ludenscheidt');
    expect(foldText('Nguyễn Thị Ánh')).toBe('nguyen thi anh');
    expect(foldText('Ås Ærø Sørvik ÅSE')).toBe('ås ærø sørvik åse');
    // Å as A + combining ring (NFD, as some systems send it) is the same letter.
    expect(foldText('A\u030as')).toBe('ås');
    // Full-width Latin from a Chinese input method reads as Latin.
    expect(foldText('ＡＢＣ１')).toBe('abc1');
    expect(termsOf('Bjørn Sæther, Ås sykehus')).toEqual(['bjørn', 'sæther', 'ås', 'sykehus']);
  });

  it('keeps a Bengali word whole: vowel signs, virama and nukta are part of it', () => {
    // রহমান: র হ ম া(vowel sign AA) ন; ক্ষ: ক ্(virama) ষ; য়: য ়(nukta)
    expect(wordsOf('মোহাম্মদ রহমান')).toEqual(['মোহাম্মদ', 'রহমান']);
    expect(termsOf('ঢাকা মেডিকেল কলেজ হাসপাতাল')).toEqual(['ঢাকা', 'মেডিকেল', 'কলেজ', 'হাসপাতাল']);
    expect(termsOf('লক্ষ্মী রায়')).toEqual(['লক্ষ্মী', 'রায়']);
    // A zero-width joiner inside a conjunct (র‍্য) is dropped on both sides.
    expect(termsOf('র\u200d্যাব')).toEqual(['র্যাব']);
    expect(queryTermsOf('রহমা')).toEqual(['"রহমা"*']);
    expect(queryTermsOf('মোহা রহ')).toEqual(['"মোহা"*', '"রহ"*']);
  });

  it('indexes a Chinese run as overlapping bigrams, one per character, the last character alone', () => {
    expect(termsOf('张伟明')).toEqual(['张伟', '伟明', '明']);
    expect(indexTextOf('郑州市第一人民医院')).toBe('郑州 州市 市第 第一 一人 人民 民医 医院 院');
    // Latin or digits beside Han characters are words of their own.
    expect(termsOf('北京协和医院ICU 3病区')).toEqual([
      '北京',
      '京协',
      '协和',
      '和医',
      '医院',
      '院',
      'icu',
      '3',
      '病区',
      '区',
    ]);
    expect(termsOf('王')).toEqual(['王']);
  });

  it('turns a typed Chinese substring into the phrase of its bigrams, and one character into a prefix', () => {
    expect(queryTermsOf('伟')).toEqual(['"伟"*']);
    expect(queryTermsOf('伟明')).toEqual(['"伟明"']);
    expect(queryTermsOf('张伟明')).toEqual(['"张伟 伟明"']);
    expect(queryTermsOf('人民医院')).toEqual(['"人民 民医 医院"']);
    // Each piece must be found: a Latin word beside a Chinese one.
    expect(queryTermsOf('心内科 li')).toEqual(['"心内 内科"', '"li"*']);
    // The substrings of 张伟明 are all in its terms: each query's grams are consecutive terms of the index.
    const indexed = indexTextOf('张伟明');
    for (const part of ['张', '伟', '明', '张伟', '伟明', '张伟明']) {
      const [term] = queryTermsOf(part);
      const grams = term!.replace(/^"|"\*?$/gu, '');
      if (term!.endsWith('*')) expect(indexed.split(' ').some((t) => t.startsWith(grams))).toBe(true);
      else expect(` ${indexed} `).toContain(` ${grams} `);
    }
  });

  it('reads a name written in Han characters family name first, as it is written, before the order it is given in', () => {
    expect(nameTextOf('伟明 张')).toBe('张伟 伟明 明 伟明 明 张');
    expect(nameTextOf('张伟明')).toBe('张伟 伟明 明');
    expect(nameTextOf('Layla Ahmed')).toBe('layla ahmed');
    expect(nameTextOf('Wei Zhang 张')).toBe('wei zhang 张');
    // A title is indexed after the name, so that the name still begins with its first word.
    expect(nameTextOf('Dr. 伟明 张')).toBe('张伟 伟明 明 伟明 明 张 dr');
    expect(nameTextOf('Prof. Dr. Layla Ahmed')).toBe('layla ahmed prof dr');
    expect(nameTextOf('Dr.')).toBe('dr');
  });

  it('never lets what is typed be read as FTS5 syntax, and finds nothing to look for in punctuation', () => {
    expect(queryTermsOf('"kari"* ^( NEAR')).toEqual(['"kari"*', '"near"*']);
    expect(queryTermsOf(' - 。，')).toEqual([]);
    expect(queryTermsOf(undefined)).toEqual([]);
  });

  it('matches filters as phrases of terms, and ranks a name that begins with what is typed first', () => {
    expect(phraseOf('Kardiologi')).toBe('"kardiologi"');
    expect(phraseOf('心内科')).toBe('"心内 内科 科"');
    expect(phraseOf(' - ')).toBeUndefined();
    expect(filterOf({ specialty: '心内科', language: 'nb-NO' })).toBe(
      'specialty_terms : "心内 内科 科" AND language_terms : "nb no"',
    );
    expect(rankedMatchesOf(['"张伟 伟明"'], '')).toEqual([
      'name_terms : (^ "张伟 伟明")',
      '(name_terms : ("张伟 伟明")) NOT name_terms : (^ "张伟 伟明")',
      '(({name_terms specialty_terms organization_terms city_terms language_terms} : ("张伟 伟明"))) NOT name_terms : ("张伟 伟明")',
    ]);
  });
});
