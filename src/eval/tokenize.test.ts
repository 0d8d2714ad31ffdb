// NLTK 3.8's NLTKWordTokenizer().tokenize(text) (what word_tokenize applies to each sentence) and
// PunktSentenceTokenizer(params).tokenize(text) with ./punkt's parameters (abbrev_types = DEFAULT_ABBREVIATIONS,
// nothing else), computed once with Debian's python3-nltk; see metrics.test.ts for the script.
import { describe, expect, it } from 'vitest';
import { splitSentences } from './punkt';
import { treebankTokenize, wordTokenize } from './treebank';

// [text, NLTKWordTokenizer tokens, Punkt sentences]
const NLTK: [string, string[], string[]][] = [
  ["Good muffins cost $3.88 (roughly 3,36 euros)\nin New York.  Please buy me\ntwo of them.\nThanks.", ["Good", "muffins", "cost", "$", "3.88", "(", "roughly", "3,36", "euros", ")", "in", "New", "York.", "Please", "buy", "me", "two", "of", "them.", "Thanks", "."], ["Good muffins cost $3.88 (roughly 3,36 euros)\nin New York.", "Please buy me\ntwo of them.", "Thanks."]],
  ["they'll say \"hello\" and i'd go", ["they", "'ll", "say", "``", "hello", "''", "and", "i", "'d", "go"], ["they'll say \"hello\" and i'd go"]],
  ["can't won't shouldn't", ["ca", "n't", "wo", "n't", "should", "n't"], ["can't won't shouldn't"]],
  ["gonna wanna gimme lemme", ["gon", "na", "wan", "na", "gim", "me", "lem", "me"], ["gonna wanna gimme lemme"]],
  ["'tis the season", ["'t", "is", "the", "season"], ["'tis the season"]],
  ["she said 'no'.", ["she", "said", "'no", "'", "."], ["she said 'no'."]],
  ["(see below).", ["(", "see", "below", ")", "."], ["(see below)."]],
  ["a--b", ["a", "--", "b"], ["a--b"]],
  ["wait...", ["wait", "..."], ["wait..."]],
  ["end of story!!!", ["end", "of", "story", "!", "!", "!"], ["end of story!!", "!"]],
  ["mr. smith went to washington. he won.", ["mr.", "smith", "went", "to", "washington.", "he", "won", "."], ["mr. smith went to washington.", "he won."]],
  ["born in 1990. she moved", ["born", "in", "1990.", "she", "moved"], ["born in 1990. she moved"]],
  ["j. smith arrived. then", ["j.", "smith", "arrived.", "then"], ["j. smith arrived.", "then"]],
  ["u.s. army", ["u.s.", "army"], ["u.s. army"]],
  ["what? yes. no!", ["what", "?", "yes.", "no", "!"], ["what?", "yes.", "no!"]],
  ["he said \"go.\" then left.", ["he", "said", "``", "go.", "''", "then", "left", "."], ["he said \"go.\"", "then left."]],
  ["« quoted » “curly” ‘single’", ["«", "quoted", "»", "“", "curly", "”", "‘", "single", "’"], ["« quoted » “curly” ‘single’"]],
  ["email: a@b.com; #tag 100%", ["email", ":", "a", "@", "b.com", ";", "#", "tag", "100", "%"], ["email: a@b.com; #tag 100%"]],
  ["x * y = z", ["x", "*", "y", "=", "z"], ["x * y = z"]],
  ["it's 5:30, right?", ["it", "'s", "5:30", ",", "right", "?"], ["it's 5:30, right?"]],
  ["1,000,000 dollars.", ["1,000,000", "dollars", "."], ["1,000,000 dollars."]],
  ["the end.)", ["the", "end", ".", ")"], ["the end.)"]],
  ["ok.\n\nnew paragraph. here", ["ok.", "new", "paragraph.", "here"], ["ok.", "new paragraph.", "here"]],
  ["etc. and so on", ["etc.", "and", "so", "on"], ["etc.", "and so on"]],
  ["3.5. next", ["3.5.", "next"], ["3.5. next"]],
  ["yes.   ", ["yes", "."], ["yes."]],
  ["  leading space. x", ["leading", "space.", "x"], ["  leading space.", "x"]],
  ["no.1 fan", ["no.1", "fan"], ["no.1 fan"]],
  ["a.b.c. d", ["a.b.c.", "d"], ["a.b.c.", "d"]],
  ["i.e. this", ["i.e.", "this"], ["i.e.", "this"]],
  ["it's. ok", ["it's.", "ok"], ["it's.", "ok"]],
  ["don't. stop", ["don't.", "stop"], ["don't.", "stop"]],
  ["...", ["..."], ["..."]],
  [".", ["."], ["."]],
  ["?", ["?"], ["?"]],
  ["", [], []],
  ["   ", [], []],
  ["\"", ["``"], ["\""]],
  ["''", ["''"], ["''"]],
  ["``x''", ["``", "x", "''"], ["``x''"]],
  ["he's 'the one'", ["he", "'s", "'the", "one", "'"], ["he's 'the one'"]],
  ["more'n enough", ["more", "'n", "enough"], ["more'n enough"]],
  ["d'ye know", ["d", "'ye", "know"], ["d'ye know"]],
  ["whaddya want", ["whaddya", "want"], ["whaddya want"]],
  ["'twas night", ["'t", "was", "night"], ["'twas night"]],
  ["o'clock", ["o'clock"], ["o'clock"]],
  ["rock 'n' roll", ["rock", "'n", "'", "roll"], ["rock 'n' roll"]],
  ["programme 3 -- 5", ["programme", "3", "--", "5"], ["programme 3 -- 5"]],
  ["<tag> [x] {y}", ["<", "tag", ">", "[", "x", "]", "{", "y", "}"], ["<tag> [x] {y}"]],
  ["naïve café résumé", ["naïve", "café", "résumé"], ["naïve café résumé"]],
  ["straße ǅemal", ["straße", "ǅemal"], ["straße ǅemal"]],
  ["😀 emoji. next", ["😀", "emoji.", "next"], ["😀 emoji.", "next"]],
  ["ab́c thé end", ["ab́c", "thé", "end"], ["ab́c thé end"]],
];

describe('NLTK word tokenizer', () => {
  it.each(NLTK)('tokenize(%j)', (text, tokens) => {
    expect(treebankTokenize(text)).toEqual(tokens);
  });
});

describe('Punkt sentence splitting', () => {
  it.each(NLTK)('sent_tokenize(%j)', (text, _tokens, sentences) => {
    expect(splitSentences(text)).toEqual(sentences);
  });
  it('word_tokenize splits a period only at a sentence end', () => {
    expect(wordTokenize('she went home. he stayed in may 8. then')).toEqual(['she', 'went', 'home', '.', 'he', 'stayed', 'in', 'may', '8.', 'then']);
  });
});
