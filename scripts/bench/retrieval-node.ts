// `npm run bench -- retrieval`: how often lexical retrieval finds a LoCoMo question's evidence, with the
// Porter stemming our BM25 applies and without it. Each conversation's turns (with BLIP captions of shared
// images, as the agents see them) are indexed; for each question of categories 1-4 with evidence, recall@k
// is the share of its evidence turns among the top k by BM25. No model is involved: this isolates the index.
import { readLocomoFile } from '../../src/eval/locomo.node.js';
import { Bm25Index } from '../../src/memory/bm25';

const conversations = await readLocomoFile('../shared/data/locomo10.json');
const KS = [10, 30, 60] as const;

function recall(stemming: boolean) {
  const sums = new Map(KS.map((k) => [k, 0]));
  let questions = 0;
  let indexMs = 0;
  let searchMs = 0;
  for (const conversation of conversations) {
    const turns = conversation.sessions.flatMap((s) => s.turns);
    const index = new Bm25Index(1.2, 0.75, stemming);
    let t = performance.now();
    turns.forEach((turn, slot) => index.set(slot, `${turn.speaker}: ${turn.text}${turn.blipCaption ? ` [shares ${turn.blipCaption}]` : ''}`));
    indexMs += performance.now() - t;
    for (const qa of conversation.qa) {
      const evidence = new Set(qa.evidence.filter((id) => turns.some((turn) => turn.diaId === id)));
      if (evidence.size === 0) continue;
      t = performance.now();
      const { slots, scores, count } = index.search(qa.question);
      const ranked = Array.from({ length: count }, (_, i) => [slots[i]!, scores[i]!] as const).sort((a, b) => b[1] - a[1] || a[0] - b[0]);
      searchMs += performance.now() - t;
      for (const k of KS) {
        const found = ranked.slice(0, k).filter(([slot]) => evidence.has(turns[slot]!.diaId)).length;
        sums.set(k, sums.get(k)! + found / evidence.size);
      }
      questions++;
    }
  }
  return {
    questions,
    ...(Object.fromEntries(KS.map((k) => [`recallAt${k}`, +(sums.get(k)! / questions).toFixed(4)])) as Record<`recallAt${(typeof KS)[number]}`, number>),
    indexMs: +indexMs.toFixed(1),
    searchMsPerQuery: +(searchMs / questions).toFixed(3),
  };
}

const plain = recall(false);
const stemmed = recall(true);
console.error(`[retrieval] recall@30: ${plain.recallAt30} plain words, ${stemmed.recallAt30} stemmed, over ${stemmed.questions} questions`);
console.log(JSON.stringify({ conversations: conversations.length, plain, stemmed }));
