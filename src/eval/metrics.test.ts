// Metrics against reference values computed once, by hand, with NLTK 3.8 (Debian bookworm's python3-nltk)
// and LoCoMo's scoring code (snap-research/LoCoMo task_eval/evaluation.py @ 3eb6f2c, with the `regex`
// module); no Python is needed to run these tests. The script, in short:
//
//   from nltk.tokenize import NLTKWordTokenizer
//   from nltk.tokenize.punkt import PunktSentenceTokenizer, PunktParameters
//   from nltk.translate.bleu_score import sentence_bleu, SmoothingFunction
//   from nltk.stem import PorterStemmer
//   params = PunktParameters(); params.abbrev_types = {'mr','mrs','ms','dr','st','jr','sr','u.s','inc','corp','co','ltd'}
//   punkt, tb = PunktSentenceTokenizer(params), NLTKWordTokenizer()   # punkt data is not available offline:
//   word_tokenize = lambda t: [w for s in punkt.tokenize(t) for w in tb.tokenize(s)]  # = ./punkt's parameters
//   # Mem0 evaluation/metrics/utils.py calculate_metrics (A-Mem's), verbatim logic:
//   def bleu1(p, g):
//       if not p or not g: return 0.0
//       p, g = p.strip(), g.strip()
//       return sentence_bleu([word_tokenize(g.lower())], word_tokenize(p.lower()), weights=(1,0,0,0),
//                            smoothing_function=SmoothingFunction().method1)
//   simple = lambda t: t.lower().replace('.',' ').replace(',',' ').replace('!',' ').replace('?',' ').split()
//   def f1(p, g):  # on sets; 0 if either is empty
//       ...
//   em = int(squad_normalize(p) == squad_normalize(g))  # lower, drop string.punctuation, \b(a|an|the)\b, split/join
//   locomo_f1 = LoCoMo's f1 (category 1), f1_score (2, 4), f1_score with gold.split(';')[0].strip() (3),
//               with normalize_answer and PorterStemmer() copied from evaluation.py
//
// The same comparison over 3,000 random strings (quotes, clitics, periods, digits, ...) and 10,000 random
// words matched exactly when this was written.
import { describe, expect, it } from 'vitest';
import { brevityPenalty, sentenceBleu } from './bleu';
import { locomoF1, locomoMultiAnswerF1, locomoNormalize } from './locomo-f1';
import { bleu1, bleuTokens, exactMatch, normalizeAnswer, scoreAnswer, simpleTokens, tokenF1 } from './metrics';

// [prediction, gold, category, em, f1, bleu1, locomo_f1]
const REFERENCE: [string, string, number, number, number, number, number][] = [
  ["7 May 2023", "7 May 2023", 2, 1, 1.0, 1.0, 1.0],
  ["May 7, 2023", "7 May 2023", 2, 0, 1.0, 0.75, 1.0],
  ["On 7 May 2023.", "7 May 2023", 2, 0, 0.8571428571428571, 0.6, 0.8571428571428571],
  ["The week before 9 June 2023", "The week before 9 June 2023", 2, 1, 1.0, 1.0, 1.0],
  ["2022", "2022", 2, 1, 1.0, 1.0, 1.0],
  ["In 2022", "2022", 2, 0, 0.6666666666666666, 0.5, 0.6666666666666666],
  ["last year", "2022", 2, 0, 0.0, 0.0, 0.0],
  ["3", "2", 1, 0, 0.0, 0.0, 0.0],
  ["Three children", "3", 1, 0, 0.0, 0.0, 0.0],
  ["Caroline", "Caroline", 4, 1, 1.0, 1.0, 1.0],
  ["caroline!", "Caroline", 4, 1, 1.0, 0.5, 1.0],
  ["Melanie's kids", "Melanie", 4, 0, 0.0, 0.3333333333333333, 0.6666666666666666],
  ["She doesn't know.", "She does not know", 4, 0, 0.5714285714285715, 0.6, 0.5714285714285715],
  ["They're going to the beach", "Beach", 4, 0, 0.33333333333333337, 0.16666666666666669, 0.4],
  ["I can't say", "cannot say", 4, 0, 0.4, 0.25, 0.4],
  ["Adoption agencies", "Adoption agencies", 1, 1, 1.0, 1.0, 1.0],
  ["adoption agency", "Adoption agencies", 1, 0, 0.5, 0.5, 1.0],
  ["pottery, camping, painting", "pottery, camping, painting, swimming", 1, 0, 0.8571428571428571, 0.6703200460356393, 0.75],
  ["Painting and swimming", "pottery, camping, painting, swimming", 1, 0, 0.5714285714285715, 0.17573142541048448, 0.3333333333333333],
  ["beach, mountains", "beach, mountains, forest", 1, 0, 0.8, 0.513417119032592, 0.6666666666666666],
  ["dinosaurs and nature", "dinosaurs, nature", 1, 0, 0.8, 0.6666666666666666, 0.6666666666666666],
  ["\"Charlotte's Web\"", "\"Nothing is Impossible\", \"Charlotte's Web\"", 1, 0, 0.5714285714285715, 0.301194211912202, 0.5],
  ["Running", "Running, pottery", 1, 0, 0.6666666666666666, 0.1353352832366127, 0.5],
  ["Psychology", "Psychology, counseling certification", 3, 0, 0.5, 0.049787068367863944, 0.5],
  ["Likely no", "Likely no; though she likes reading, she wants to be a counselor", 3, 0, 0.15384615384615385, 0.0024787521766663585, 1.0],
  ["Yes", "Yes; it's classical music", 3, 0, 0.0, 0.006737946999085467, 1.0],
  ["No.", "Likely no, she does not refer to herself as part of it", 3, 0, 0.15384615384615385, 0.0020433857192320333, 0.15384615384615385],
  ["National park", "National park; she likes the outdoors", 3, 0, 0.25, 0.0820849986238988, 1.0],
  ["", "Sweden", 4, 0, 0.0, 0.0, 0.0],
  ["   ", "Sweden", 4, 0, 0.0, 0.0, 0.0],
  ["Sweden", "", 4, 0, 0.0, 0.0, 0.0],
  ["Sweden", "Sweden.", 4, 1, 1.0, 0.36787944117144233, 1.0],
  ["the the the sweden", "Sweden", 4, 1, 0.6666666666666666, 0.25, 1.0],
  ["Transgender woman", "Transgender woman", 1, 1, 1.0, 1.0, 1.0],
  ["a transgender woman", "Transgender woman", 1, 1, 0.8, 0.6666666666666666, 1.0],
  ["Mr. Smith went home. He slept.", "He slept at home", 4, 0, 0.6, 0.375, 0.6],
  ["He went to the U.S. in 2020.", "the U.S.", 4, 0, 0.5454545454545454, 0.25, 0.2857142857142857],
  ["Running a 5k (charity)", "charity race", 4, 0, 0.0, 0.16666666666666669, 0.4],
  ["$3.88 at 12:30 pm", "12:30 pm", 2, 0, 0.5714285714285715, 0.4, 0.6666666666666666],
  ["e-mail & phone", "email, phone", 1, 1, 0.4, 0.3333333333333333, 0.6666666666666666],
  ["It's been 'great' -- really", "great", 4, 0, 0.0, 0.0, 0.4],
  ["Who knows? Maybe she does!", "She does", 4, 0, 0.5714285714285715, 0.2857142857142857, 0.5714285714285715],
  ["Counseling... or therapy", "counseling", 4, 0, 0.5, 0.25, 0.5],
  ["happily relational conditional", "happy relation condition", 4, 0, 0.0, 0.0, 0.6666666666666666],
];

// word_tokenize(text.strip().lower()) for every text above
const TOKENS: [string, string[]][] = [
  ["7 May 2023", ["7", "may", "2023"]],
  ["May 7, 2023", ["may", "7", ",", "2023"]],
  ["On 7 May 2023.", ["on", "7", "may", "2023", "."]],
  ["The week before 9 June 2023", ["the", "week", "before", "9", "june", "2023"]],
  ["2022", ["2022"]],
  ["In 2022", ["in", "2022"]],
  ["last year", ["last", "year"]],
  ["3", ["3"]],
  ["2", ["2"]],
  ["Three children", ["three", "children"]],
  ["Caroline", ["caroline"]],
  ["caroline!", ["caroline", "!"]],
  ["Melanie's kids", ["melanie", "'s", "kids"]],
  ["Melanie", ["melanie"]],
  ["She doesn't know.", ["she", "does", "n't", "know", "."]],
  ["She does not know", ["she", "does", "not", "know"]],
  ["They're going to the beach", ["they", "'re", "going", "to", "the", "beach"]],
  ["Beach", ["beach"]],
  ["I can't say", ["i", "ca", "n't", "say"]],
  ["cannot say", ["can", "not", "say"]],
  ["Adoption agencies", ["adoption", "agencies"]],
  ["adoption agency", ["adoption", "agency"]],
  ["pottery, camping, painting", ["pottery", ",", "camping", ",", "painting"]],
  ["pottery, camping, painting, swimming", ["pottery", ",", "camping", ",", "painting", ",", "swimming"]],
  ["Painting and swimming", ["painting", "and", "swimming"]],
  ["beach, mountains", ["beach", ",", "mountains"]],
  ["beach, mountains, forest", ["beach", ",", "mountains", ",", "forest"]],
  ["dinosaurs and nature", ["dinosaurs", "and", "nature"]],
  ["dinosaurs, nature", ["dinosaurs", ",", "nature"]],
  ["\"Charlotte's Web\"", ["``", "charlotte", "'s", "web", "''"]],
  ["\"Nothing is Impossible\", \"Charlotte's Web\"", ["``", "nothing", "is", "impossible", "''", ",", "``", "charlotte", "'s", "web", "''"]],
  ["Running", ["running"]],
  ["Running, pottery", ["running", ",", "pottery"]],
  ["Psychology", ["psychology"]],
  ["Psychology, counseling certification", ["psychology", ",", "counseling", "certification"]],
  ["Likely no", ["likely", "no"]],
  ["Likely no; though she likes reading, she wants to be a counselor", ["likely", "no", ";", "though", "she", "likes", "reading", ",", "she", "wants", "to", "be", "a", "counselor"]],
  ["Yes", ["yes"]],
  ["Yes; it's classical music", ["yes", ";", "it", "'s", "classical", "music"]],
  ["No.", ["no", "."]],
  ["Likely no, she does not refer to herself as part of it", ["likely", "no", ",", "she", "does", "not", "refer", "to", "herself", "as", "part", "of", "it"]],
  ["National park", ["national", "park"]],
  ["National park; she likes the outdoors", ["national", "park", ";", "she", "likes", "the", "outdoors"]],
  ["", []],
  ["Sweden", ["sweden"]],
  ["   ", []],
  ["Sweden.", ["sweden", "."]],
  ["the the the sweden", ["the", "the", "the", "sweden"]],
  ["Transgender woman", ["transgender", "woman"]],
  ["a transgender woman", ["a", "transgender", "woman"]],
  ["Mr. Smith went home. He slept.", ["mr.", "smith", "went", "home", ".", "he", "slept", "."]],
  ["He slept at home", ["he", "slept", "at", "home"]],
  ["He went to the U.S. in 2020.", ["he", "went", "to", "the", "u.s.", "in", "2020", "."]],
  ["the U.S.", ["the", "u.s", "."]],
  ["Running a 5k (charity)", ["running", "a", "5k", "(", "charity", ")"]],
  ["charity race", ["charity", "race"]],
  ["$3.88 at 12:30 pm", ["$", "3.88", "at", "12:30", "pm"]],
  ["12:30 pm", ["12:30", "pm"]],
  ["e-mail & phone", ["e-mail", "&", "phone"]],
  ["email, phone", ["email", ",", "phone"]],
  ["It's been 'great' -- really", ["it", "'s", "been", "'great", "'", "--", "really"]],
  ["great", ["great"]],
  ["Who knows? Maybe she does!", ["who", "knows", "?", "maybe", "she", "does", "!"]],
  ["She does", ["she", "does"]],
  ["Counseling... or therapy", ["counseling", "...", "or", "therapy"]],
  ["counseling", ["counseling"]],
  ["happily relational conditional", ["happily", "relational", "conditional"]],
  ["happy relation condition", ["happy", "relation", "condition"]],
];

describe('metrics against NLTK / LoCoMo reference values', () => {
  it.each(REFERENCE)('%j vs %j (category %i)', (prediction, gold, category, em, f1, bleu, locomo) => {
    const scores = scoreAnswer(prediction, gold, category);
    expect(scores.em).toBe(em);
    expect(scores.f1).toBeCloseTo(f1, 12);
    expect(scores.bleu1).toBeCloseTo(bleu, 12);
    expect(scores.locomo_f1).toBeCloseTo(locomo, 12);
  });

  it.each(TOKENS)('word_tokenize(%j)', (text, tokens) => {
    expect(bleuTokens(text)).toEqual(tokens);
  });
});

describe('exact match', () => {
  it('normalises case, punctuation, articles and spaces', () => {
    expect(normalizeAnswer('  The  Beach, at   "Sunset"! ')).toBe('beach at sunset');
    expect(normalizeAnswer('An apple a day')).toBe('apple day');
    expect(normalizeAnswer('theatre another')).toBe('theatre another');
    expect(exactMatch('7 May, 2023.', '7 may 2023')).toBe(1);
    expect(exactMatch('7 May 2023', '8 May 2023')).toBe(0);
  });
});

describe('token F1 (Memory-R1 / Mem0)', () => {
  it('splits on whitespace after . , ! ? become spaces, and keeps other punctuation', () => {
    expect(simpleTokens("Yes, it's 5.30!")).toEqual(['yes', "it's", '5', '30']);
  });
  it('counts token sets, not multisets', () => {
    expect(tokenF1('paris paris paris', 'paris')).toBe(1);
  });
  it('is 0 for an empty side', () => {
    expect(tokenF1('', 'x')).toBe(0);
    expect(tokenF1('x', ' ')).toBe(0);
  });
});

describe('BLEU (NLTK sentence_bleu, method1)', () => {
  it('is 0 with no unigram match, whatever the smoothing', () => {
    expect(sentenceBleu([['a', 'b']], ['c'], [1, 0, 0, 0])).toBe(0);
    expect(bleu1('', 'x')).toBe(0);
  });
  it('applies the brevity penalty with the closest reference length', () => {
    expect(brevityPenalty(4, 2)).toBeCloseTo(Math.exp(-1), 15);
    expect(brevityPenalty(2, 4)).toBe(1);
    expect(brevityPenalty(3, 0)).toBe(0);
    // Two references at distance 1 from a 3-token hypothesis: the shorter (2) is taken, so no penalty.
    expect(sentenceBleu([['a', 'b'], ['a', 'b', 'c', 'd']], ['a', 'x', 'y'], [1])).toBeCloseTo(1 / 3, 15);
  });
  it('smooths a zero higher-order precision with epsilon 0.1 over its denominator', () => {
    // p1 = 2/2, p2 = 0/1 → 0.1/1; equal weights: sqrt(1 * 0.1)
    expect(sentenceBleu([['a', 'b']], ['b', 'a'], [0.5, 0.5])).toBeCloseTo(Math.sqrt(0.1), 12);
  });
  it('clips counts by the reference', () => {
    expect(sentenceBleu([['the', 'cat']], ['the', 'the', 'the'], [1])).toBeCloseTo(1 / 3, 15);
  });
});

describe("LoCoMo's F1", () => {
  it('normalises as LoCoMo does (commas out, a/an/the/and out, punctuation out)', () => {
    expect(locomoNormalize('Tom, Jerry and the Cat!')).toBe('tom jerry cat');
  });
  it('category 1: mean over gold parts of the best F1 against any predicted part', () => {
    expect(locomoMultiAnswerF1('painting', 'pottery, painting')).toBe(0.5);
    expect(locomoF1('painting, pottery', 'pottery, painting', 1)).toBe(1);
  });
  it('category 3: gold cut at the first ";"', () => {
    expect(locomoF1('likely no', 'Likely no; she wants to be a counselor', 3)).toBe(1);
    expect(locomoF1('likely no', 'Likely no; she wants to be a counselor', 4)).toBeLessThan(1);
  });
  it('category 5: credits a "not mentioned" reply', () => {
    expect(locomoF1('That is not mentioned in the conversation.', 'whatever', 5)).toBe(1);
    expect(locomoF1('Yes', 'whatever', 5)).toBe(0);
  });
  it('rejects an unknown category', () => {
    expect(() => locomoF1('a', 'b', 7)).toThrow(/category/);
  });
});
