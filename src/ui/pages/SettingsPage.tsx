import type { Settings } from '../settings';

/** Settings that are the user's to choose; each is saved as it changes. */
export function SettingsPage({ settings, onChange }: { settings: Settings; onChange: (patch: Partial<Settings>) => void }) {
  return (
    <section className="panel" aria-labelledby="settings-title">
      <h2 id="settings-title">Settings</h2>
      <div className="form-grid">
        <label htmlFor="setting-theme">Theme</label>
        <select id="setting-theme" value={settings.theme} onChange={(e) => onChange({ theme: e.target.value as Settings['theme'] })}>
          <option value="system">Follow the system</option>
          <option value="light">Light</option>
          <option value="dark">Dark</option>
        </select>
        <label htmlFor="setting-user-name">Your name in memories</label>
        <input id="setting-user-name" key={settings.userName} defaultValue={settings.userName} maxLength={60} onBlur={(e) => e.target.value.trim() && onChange({ userName: e.target.value.trim() })} />
        <label htmlFor="setting-per-speaker">Memories retrieved per speaker</label>
        <input id="setting-per-speaker" type="number" min={1} max={200} value={settings.perSpeaker} onChange={(e) => e.target.valueAsNumber >= 1 && onChange({ perSpeaker: Math.min(200, Math.round(e.target.valueAsNumber)) })} />
        <label htmlFor="setting-temperature">Answer temperature</label>
        <input id="setting-temperature" type="number" min={0} max={2} step={0.1} value={settings.temperature} onChange={(e) => e.target.valueAsNumber >= 0 && onChange({ temperature: Math.min(2, e.target.valueAsNumber) })} />
        <label htmlFor="setting-manager-temperature">Memory manager temperature</label>
        <input id="setting-manager-temperature" type="number" min={0} max={2} step={0.1} value={settings.managerTemperature} onChange={(e) => e.target.valueAsNumber >= 0 && onChange({ managerTemperature: Math.min(2, e.target.valueAsNumber) })} />
      </div>
    </section>
  );
}
