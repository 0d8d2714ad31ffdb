// What to train: the model (the local engine's), the agent / dataset, the algorithm and its settings,
// each with a short help text.
import type { Algorithm } from '../../train/trainer';
import { ALGORITHMS, FIELD_SPECS, FIELDS, LOCOMO_FIELDS, LOCOMO_SPECS, TASKS, type Field, type TrainSettings } from './form';

interface Props {
  settings: TrainSettings;
  onChange: (settings: TrainSettings) => void;
  disabled: boolean;
}

export function TrainSetup({ settings, onChange, disabled }: Props) {
  const set = (field: Field, value: string) => onChange({ ...settings, values: { ...settings.values, [field]: value } });
  const algorithm = ALGORITHMS.find((a) => a.value === settings.algorithm)!;
  const task = TASKS.find((t) => t.value === settings.task)!;
  return (
    <fieldset className="train-setup" disabled={disabled}>
      <legend className="visually-hidden">Run settings</legend>
      <div className="field">
        <label htmlFor="train-task">Agent and data</label>
        <select id="train-task" aria-describedby="train-task-help" value={settings.task} onChange={(e) => onChange({ ...settings, task: e.target.value as TrainSettings['task'] })}>
          {TASKS.map((t) => (
            <option key={t.value} value={t.value}>
              {t.label}
            </option>
          ))}
        </select>
        <p id="train-task-help" className="help">
          {task.help}
        </p>
      </div>
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
