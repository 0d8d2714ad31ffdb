// The training tuples for commands that build them from a model folder or a model server (export; the
// same cache file `train` keeps): reused when kept for the same set-up, otherwise built with every model
// reply journaled next to the cache, so a build that fails part-way (server down, killed) resumes where it
// stopped on the next run, asking nothing twice.
import { conversationsOf } from '../eval/locomo';
import { readLocomoFile } from '../eval/locomo.node.js';
import { tupleIdentity, tuplesOnModel, type TupleSettings } from '../eval/locomo-task';
import { identityKey } from '../eval/runner';
import { FileTupleCache } from '../eval/tuples.node.js';
import type { TrainingTuples } from '../eval/tuples';
import type { ChatModel } from '../llm/chat-model';
import { JournaledChatModel } from './call-journal';
import { progressReporter } from './command';

export interface TupleBuild {
  tuples: TrainingTuples;
  cached: boolean;
  /** Replies reused from an earlier, interrupted build, and asked of the model now. */
  replayed: number;
  asked: number;
}

export async function buildOrReadTuples(options: { data: string; model: ChatModel; modelIdentity: string; tuplesPath: string; settings: TupleSettings }): Promise<TupleBuild> {
  const conversations = conversationsOf(await readLocomoFile(options.data), 'train');
  const identity = tupleIdentity(options.modelIdentity, options.settings);
  const journal = await JournaledChatModel.open(options.model, `${options.tuplesPath}.calls.jsonl`, identityKey(identity));
  if (journal.recorded > 0) process.stderr.write(`resuming a tuple build: ${journal.recorded} model replies kept in ${journal.path}\n`);
  const progress = progressReporter('tuples');
  try {
    const { tuples, cached } = await tuplesOnModel(journal, conversations, identity, options.settings, new FileTupleCache(options.tuplesPath), (p) => progress(p.turn, p.turns, p.sampleId));
    const counts = { replayed: journal.replayed, asked: journal.asked };
    // The tuples are kept now; the replies that built them are not needed again.
    await journal.discard();
    return { tuples, cached, ...counts };
  } catch (error) {
    await journal.close();
    throw new Error(`${(error as Error).message}\n(the model replies so far are kept in ${journal.path}: the same command resumes from them)`, { cause: error });
  }
}
