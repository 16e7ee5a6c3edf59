import { formatPercent } from "../lib/format";

export interface GaugeMark {
  /** Position in percent of the budget (may exceed 100). */
  at: number;
  label: string;
  firing?: boolean;
}

interface Props {
  label: string;
  /** Spent as percent of the budget, as the API's decimal string. */
  percent: string | null;
  /** Forecast as percent of the budget, if known. */
  forecastPercent?: number | null;
  marks: GaugeMark[];
}

/** A horizontal gauge: the spent share, a forecast marker and a tick for each threshold. */
export function Gauge({ label, percent, forecastPercent, marks }: Props) {
  const value = percent === null ? null : Number(percent);
  // The scale reaches past 100% when spend, the forecast or a threshold does (up to 300%), with a tick at 100%.
  const reach = [100, ...marks.map((m) => m.at), value ?? 0, forecastPercent ?? 0].filter((n) => Number.isFinite(n));
  const scaleMax = Math.min(300, Math.max(...reach) * (Math.max(...reach) > 100 ? 1.05 : 1));
  const pos = (p: number) => `${Math.min(100, Math.max(0, (p / scaleMax) * 100))}%`;
  const level = value === null ? "unknown" : value >= 100 ? "over" : marks.some((m) => m.at <= value) ? "warn" : "ok";
  return (
    <div
      className={`gauge gauge-${level}`}
      role="meter"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={value === null ? undefined : Math.min(value, 100)}
      aria-valuetext={percent === null ? "not known yet" : `${formatPercent(percent)} of the budget`}
    >
      <div className="gauge-track">
        {value !== null && <div className="gauge-fill" style={{ width: pos(value) }} />}
        {forecastPercent != null && Number.isFinite(forecastPercent) && (
          <div className="gauge-forecast" style={{ left: pos(forecastPercent) }} title={`Forecast ${formatPercent(forecastPercent)}`} />
        )}
        {marks.map((mark) => (
          <div
            key={`${mark.label}-${mark.at}`}
            className={`gauge-mark${mark.firing ? " gauge-mark-firing" : ""}`}
            style={{ left: pos(mark.at) }}
            title={mark.label}
          />
        ))}
        {scaleMax > 100 && <div className="gauge-mark gauge-mark-full" style={{ left: pos(100) }} title="100%" />}
      </div>
    </div>
  );
}
