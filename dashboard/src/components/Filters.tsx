import { CHANNELS } from "../format";
import { useI18n } from "../i18n";

export interface RangeFilter {
  start: string;
  end: string;
  channel: string;
}

export function RangeFilters({ value, onChange }: { value: RangeFilter; onChange: (v: RangeFilter) => void }) {
  const { t } = useI18n();
  return (
    <div className="filters">
      <label>
        {t.from}
        <input type="date" name="start" value={value.start} onChange={(e) => onChange({ ...value, start: e.target.value })} />
      </label>
      <label>
        {t.to}
        <input type="date" name="end" value={value.end} onChange={(e) => onChange({ ...value, end: e.target.value })} />
      </label>
      <label>
        {t.channel}
        <select name="channel" value={value.channel} onChange={(e) => onChange({ ...value, channel: e.target.value })}>
          <option value="">{t.allChannels}</option>
          {CHANNELS.map((c) => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}
