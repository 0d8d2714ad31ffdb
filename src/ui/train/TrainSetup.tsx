// What to train: the model (the local engine's), the agent / dataset, the algorithm, LoRA or all
// weights, and the settings, each with a short help text.
import type { Algorithm } from '../../train/trainer';
import { ALGORITHMS, FIELD_SPECS, FIELDS, FINE_TUNES, LOCOMO_FIELDS, LOCOMO_SPECS, TASKS, withFineTune, type Field, type TrainSettings } from './form';

interface Props {
  settings: TrainSettings;
  onChange: (settings: TrainSettings) => void;
  disabled: boolean;
  /** Why the loaded model cannot be fully fine-tuned (null: it can). */
  fullProblem: string | null;
}

/** A select among choices, with the chosen one's help below it. */
function ChoiceField<T extends string>({
  id,
  label,
  choices,
  value,
  onChange,
}: {
  id: string;
  label: string;
  choices: { value: T; label: string; help: string; disabled?: boolean }[];
  value: T;
  onChange: (value: T) => void;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} aria-describedby={`${id}-help`} value={value} onChange={(e) => onChange(e.target.value as T)}>
        {choices.map((c) => (
          <option key={c.value} value={c.value} disabled={c.disabled}>
            {c.label}
          </option>
        ))}
      </select>
      <p id={`${id}-help`} className="help">
        {choices.find((c) => c.value === value)?.help}
      </p>
    </div>
  );
}

export function TrainSetup({ settings, onChange, disabled, fullProblem }: Props) {
  const set = (field: Field, value: string) => onChange({ ...settings, values: { ...settings.values, [field]: value } });
  return (
    <fieldset className="train-setup" disabled={disabled}>
      <legend className="visually-hidden">Run settings</legend>
      <ChoiceField id="train-task" label="Agent and data" choices={TASKS} value={settings.task} onChange={(task) => onChange({ ...settings, task })} />
      {settings.task !== 'synthetic' && (
        <div className="field-grid">
          {LOCOMO_FIELDS.map((field) => (
            <div className="field" key={field}>
              <label htmlFor={`train-${field}`}>{LOCOMO_SPECS[field].label}</label>
              <input
                id={`train-${field}`}
                inputMode="numeric"
                placeholder="all"
                value={settings.locomo[field]}
                onChange={(e) => onChange({ ...settings, locomo: { ...settings.locomo, [field]: e.target.value } })}
                aria-describedby={`train-${field}-help`}
              />
              <p id={`train-${field}-help`} className="help">
                {LOCOMO_SPECS[field].help}
              </p>
            </div>
          ))}
        </div>
      )}
      <ChoiceField id="train-algorithm" label="Algorithm" choices={ALGORITHMS} value={settings.algorithm} onChange={(algorithm) => onChange({ ...settings, algorithm })} />
      <ChoiceField
        id="train-fine-tune"
        label="Fine-tune"
        choices={FINE_TUNES.map((c) => (c.value === 'full' && fullProblem ? { ...c, label: `${c.label} (unavailable for this model)`, disabled: true } : c))}
        value={settings.fineTune}
        onChange={(fineTune) => onChange(withFineTune(settings, fineTune))}
      />
      {fullProblem && <p className="help">All weights: {fullProblem}</p>}
      <div className="field-grid">
        {FIELDS.map((field) => {
          const spec = FIELD_SPECS[field];
          if (spec.only && !spec.only.includes(settings.algorithm)) return null;
          if (spec.lora && settings.fineTune === 'full') return null;
          const id = `train-${field}`;
          return (
            <div className="field" key={field}>
              <label htmlFor={id}>{spec.label}</label>
              <input
                id={id}
                inputMode={spec.integer ? 'numeric' : 'decimal'}
                value={settings.values[field]}
                onChange={(e) => set(field, e.target.value)}
                aria-describedby={`${id}-help`}
                autoComplete="off"
                spellCheck={false}
              />
              <p id={`${id}-help`} className="help">
                {spec.help}
              </p>
            </div>
          );
        })}
      </div>
    </fieldset>
  );
}
