// What to train: the model (the local engine's), the agent / dataset, the algorithm and its settings,
// each with a short help text.
import type { Algorithm } from '../../train/trainer';
import { ALGORITHMS, FIELD_SPECS, FIELDS, type Field, type TrainSettings } from './form';

interface Props {
  settings: TrainSettings;
  onChange: (settings: TrainSettings) => void;
  disabled: boolean;
}

export function TrainSetup({ settings, onChange, disabled }: Props) {
  const set = (field: Field, value: string) => onChange({ ...settings, values: { ...settings.values, [field]: value } });
  const algorithm = ALGORITHMS.find((a) => a.value === settings.algorithm)!;
  return (
    <fieldset className="train-setup" disabled={disabled}>
      <legend className="visually-hidden">Run settings</legend>
      <div className="field">
        <label htmlFor="train-task">Agent and data</label>
        <select id="train-task" aria-describedby="train-task-help" defaultValue="synthetic">
          <option value="synthetic">Synthetic memory operations (ADD / NONE / UPDATE / DELETE)</option>
          <option value="locomo-manager" disabled>
            LoCoMo memory manager (coming)
          </option>
          <option value="locomo-answer" disabled>
            LoCoMo answer agent (coming)
          </option>
        </select>
        <p id="train-task-help" className="help">
          A memory and a new fact; the model picks the operation the manager should emit (reward 1 when right). The LoCoMo manager and answer-agent tasks of the paper are not
          available yet.
        </p>
      </div>
      <div className="field">
        <label htmlFor="train-algorithm">Algorithm</label>
        <select id="train-algorithm" aria-describedby="train-algorithm-help" value={settings.algorithm} onChange={(e) => onChange({ ...settings, algorithm: e.target.value as Algorithm })}>
          {ALGORITHMS.map((a) => (
            <option key={a.value} value={a.value}>
              {a.label}
            </option>
          ))}
        </select>
        <p id="train-algorithm-help" className="help">
          {algorithm.help}
        </p>
      </div>
      <div className="field-grid">
        {FIELDS.map((field) => {
          const spec = FIELD_SPECS[field];
          if (spec.only && !spec.only.includes(settings.algorithm)) return null;
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
