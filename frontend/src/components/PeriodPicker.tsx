import { useId } from "react";
import { PERIOD_LABELS, PRESETS, rangeFor, rangeProblem, type Period, type PeriodPreset } from "../lib/period";

interface Props {
  value: Period;
  /** Called with every change; custom ranges may be incomplete (check rangeProblem before using). */
  onChange: (period: Period) => void;
  today: string;
  label?: string;
}

/** A preset select (this month, last month, last 30/90 days, custom) with date inputs for a custom range. */
export function PeriodPicker({ value, onChange, today, label = "Period" }: Props) {
  const id = useId().replace(/:/g, "");
  const problem = value.preset === "custom" ? rangeProblem(value) : null;
  const choose = (preset: PeriodPreset) => {
    if (preset === "custom") onChange({ preset, from: value.from, to: value.to });
    else onChange({ preset, ...rangeFor(preset, today) });
  };
  return (
    <fieldset className="period-picker">
      <legend className="visually-hidden">{label}</legend>
      <div className="field">
        <label htmlFor={`${id}-preset`}>{label}</label>
        <select id={`${id}-preset`} value={value.preset} onChange={(e) => choose(e.target.value as PeriodPreset)}>
          {PRESETS.map((preset) => (
            <option key={preset} value={preset}>
              {PERIOD_LABELS[preset]}
            </option>
          ))}
        </select>
      </div>
      {value.preset === "custom" && (
        <>
          <div className="field">
            <label htmlFor={`${id}-from`}>From</label>
            <input
              id={`${id}-from`}
              type="date"
              value={value.from}
              max={value.to || undefined}
              aria-invalid={problem ? true : undefined}
              aria-describedby={`${id}-problem`}
              onChange={(e) => onChange({ ...value, from: e.target.value })}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-to`}>To</label>
            <input
              id={`${id}-to`}
              type="date"
              value={value.to}
              min={value.from || undefined}
              aria-invalid={problem ? true : undefined}
              aria-describedby={`${id}-problem`}
              onChange={(e) => onChange({ ...value, to: e.target.value })}
            />
          </div>
        </>
      )}
      <p className="field-error period-problem" id={`${id}-problem`} hidden={!problem}>
        {problem}
      </p>
    </fieldset>
  );
}
