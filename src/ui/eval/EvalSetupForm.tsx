// Which part of LoCoMo to evaluate: Memory-R1's split, and limits for a quick run (blank = all).
import { SPLITS, type LocomoConversation, type Split } from '../../eval/locomo';
import { evaluatedQuestions } from '../../eval/turns';

export interface SetupDraft {
  split: Split;
  conversations: string;
  questions: string;
  turns: string;
}

const SPLIT_NOTE: Record<Split, string> = { train: 'conv-26', validation: 'conv-30', test: 'the other 8' };

interface Props {
  draft: SetupDraft;
  onChange: (draft: SetupDraft) => void;
  conversations: readonly LocomoConversation[];
  disabled: boolean;
}

export function EvalSetupForm({ draft, onChange, conversations, disabled }: Props) {
  const count = (split: Split) => {
    const inSplit = conversations.filter((c) => c.split === split);
    return `${inSplit.length} conversation${inSplit.length === 1 ? '' : 's'}, ${inSplit.reduce((n, c) => n + evaluatedQuestions(c).length, 0)} questions`;
  };
  const limit = (key: 'conversations' | 'questions' | 'turns', label: string, help: string) => (
    <div className="field">
      <label htmlFor={`eval-${key}`}>{label}</label>
      <input id={`eval-${key}`} inputMode="numeric" value={draft[key]} placeholder="all" onChange={(e) => onChange({ ...draft, [key]: e.target.value })} aria-describedby={`eval-${key}-help`} />
      <p id={`eval-${key}-help`} className="help">
        {help}
      </p>
    </div>
  );
  return (
    <fieldset className="train-setup" disabled={disabled}>
      <legend className="visually-hidden">Evaluation settings</legend>
      <div className="field">
        <label htmlFor="eval-split">Split</label>
        <select id="eval-split" value={draft.split} onChange={(e) => onChange({ ...draft, split: e.target.value as Split })} aria-describedby="eval-split-help">
          {SPLITS.map((s) => (
            <option key={s} value={s}>
              {s} ({SPLIT_NOTE[s]}{conversations.length ? `: ${count(s)}` : ''})
            </option>
          ))}
        </select>
        <p id="eval-split-help" className="help">
          Memory-R1 trains on conv-26, validates on conv-30 and tests on the rest. The paper&rsquo;s table is the test split.
        </p>
      </div>
      <div className="field-grid">
        {limit('conversations', 'Conversations', 'The first N of the split, for a quick run.')}
        {limit('questions', 'Questions per conversation', 'The first N scored questions (categories 1-4) of each.')}
        {limit('turns', 'Turns per conversation', 'Remember only the first N turns (a smaller, faster bank).')}
      </div>
    </fieldset>
  );
}

/** The limits as numbers, or the problem with one. */
export function parseLimits(draft: SetupDraft): { limits: { conversations?: number; questions?: number; turns?: number } } | { problem: string } {
  const limits: { conversations?: number; questions?: number; turns?: number } = {};
  for (const [key, label] of [
    ['conversations', 'Conversations'],
    ['questions', 'Questions per conversation'],
    ['turns', 'Turns per conversation'],
  ] as const) {
    const text = draft[key].trim();
    if (text === '') continue;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) return { problem: `${label}: enter a whole number of at least 1, or leave it blank for all.` };
    limits[key] = n;
  }
  return { limits };
}
