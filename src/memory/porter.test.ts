// PorterStemmer().stem(word) of NLTK 3.8 (default mode NLTK_EXTENSIONS), computed once with Debian's
// python3-nltk: `{w: PorterStemmer().stem(w) for w in WORDS}`. The words cover every rule of every step,
// NLTK's irregular forms and its extensions (dies/flies, spied/died, enjoy/happy, geology, fully).
import { describe, expect, it } from 'vitest';
import { porterStem } from './porter';

const NLTK_STEMS: [string, string][] = [
  ["caresses", "caress"], ["ponies", "poni"], ["ties", "tie"], ["caress", "caress"], ["cats", "cat"], ["feed", "feed"],
  ["agreed", "agre"], ["plastered", "plaster"], ["bled", "bled"], ["motoring", "motor"], ["sing", "sing"], ["conflated", "conflat"],
  ["troubled", "troubl"], ["sized", "size"], ["hopping", "hop"], ["tanned", "tan"], ["falling", "fall"], ["hissing", "hiss"],
  ["fizzed", "fizz"], ["failing", "fail"], ["filing", "file"], ["happy", "happi"], ["sky", "sky"], ["skies", "sky"],
  ["dying", "die"], ["lying", "lie"], ["tying", "tie"], ["news", "news"], ["innings", "inning"], ["proceed", "proceed"],
  ["exceed", "exceed"], ["succeed", "succeed"], ["relational", "relat"], ["conditional", "condit"], ["rational", "ration"], ["valency", "valenc"],
  ["hesitancy", "hesit"], ["digitizer", "digit"], ["conformably", "conform"], ["radically", "radic"], ["differently", "differ"], ["vilely", "vile"],
  ["analogously", "analog"], ["vietnamization", "vietnam"], ["predication", "predic"], ["operator", "oper"], ["feudalism", "feudal"], ["decisiveness", "decis"],
  ["hopefulness", "hope"], ["callousness", "callous"], ["formality", "formal"], ["sensitivity", "sensit"], ["sensibility", "sensibl"], ["triplicate", "triplic"],
  ["formative", "form"], ["formalize", "formal"], ["electricity", "electr"], ["electrical", "electr"], ["hopeful", "hope"], ["goodness", "good"],
  ["revival", "reviv"], ["allowance", "allow"], ["inference", "infer"], ["airliner", "airlin"], ["gyroscopic", "gyroscop"], ["adjustable", "adjust"],
  ["defensible", "defens"], ["irritant", "irrit"], ["replacement", "replac"], ["adjustment", "adjust"], ["dependent", "depend"], ["adoption", "adopt"],
  ["homologous", "homolog"], ["communism", "commun"], ["activate", "activ"], ["angularity", "angular"], ["effective", "effect"], ["bowdlerize", "bowdler"],
  ["probate", "probat"], ["rate", "rate"], ["cease", "ceas"], ["controlling", "control"], ["roll", "roll"], ["generalizations", "gener"],
  ["oscillators", "oscil"], ["dies", "die"], ["flies", "fli"], ["spied", "spi"], ["died", "die"], ["enjoy", "enjoy"],
  ["enjoyment", "enjoy"], ["spy", "spi"], ["try", "tri"], ["geology", "geolog"], ["theology", "theolog"], ["archaeology", "archaeolog"],
  ["fully", "fulli"], ["hopefully", "hope"], ["is", "is"], ["as", "as"], ["a", "a"], ["an", "an"],
  ["at", "at"], ["us", "us"], ["running", "run"], ["swimming", "swim"], ["painting", "paint"], ["pottery", "potteri"],
  ["camping", "camp"], ["counseling", "counsel"], ["certification", "certif"], ["transgender", "transgend"], ["agencies", "agenc"], ["children", "children"],
  ["books", "book"], ["reading", "read"], ["mountains", "mountain"], ["beaches", "beach"], ["forest", "forest"], ["parties", "parti"],
  ["went", "went"], ["gone", "gone"], ["caroline", "carolin"], ["melanie", "melani"], ["sweden", "sweden"], ["2022", "2022"],
  ["7", "7"], ["may", "may"], ["june", "june"], ["week", "week"], ["before", "befor"], ["national", "nation"],
  ["park", "park"], ["outdoors", "outdoor"], ["likely", "like"], ["classical", "classic"], ["music", "music"], ["supportive", "support"],
  ["religious", "religi"], ["liberal", "liber"], ["friends", "friend"], ["family", "famili"], ["photos", "photo"], ["painted", "paint"],
  ["sunsets", "sunset"], ["ate", "ate"], ["eating", "eat"], ["studies", "studi"], ["studying", "studi"], ["cried", "cri"],
  ["crying", "cri"], ["lies", "lie"], ["tied", "tie"], ["hoped", "hope"], ["hopped", "hop"], ["yes", "ye"],
  ["y", "y"], ["by", "by"], ["generously", "gener"], ["argued", "argu"], ["arguing", "argu"], ["united", "unit"],
  ["ion", "ion"], ["ions", "ion"], ["aeds", "a"], ["ying", "ying"], ["llll", "llll"], ["sses", "ss"],
  ["ied", "i"], ["eed", "eed"], ["ing", "ing"],
];

describe('Porter stemmer (NLTK_EXTENSIONS)', () => {
  it.each(NLTK_STEMS)('%s → %s', (word, stem) => {
    expect(porterStem(word)).toBe(stem);
  });
  it('lowercases, and leaves 1-2 letter words alone', () => {
    expect(porterStem('Running')).toBe('run');
    expect(porterStem('IS')).toBe('is');
  });
});
