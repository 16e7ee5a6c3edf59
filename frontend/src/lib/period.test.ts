import { describe, expect, it } from "vitest";
import {
  addDays,
  daysInRange,
  endOfMonth,
  forecastEnd,
  isIsoDay,
  listDays,
  periodFromSearch,
  periodToSearch,
  rangeFor,
  rangeProblem,
  todayIso,
} from "./period";

describe("period presets", () => {
  it("this month runs from the 1st to today", () => {
    expect(rangeFor("this_month", "2026-11-22")).toEqual({ from: "2026-11-01", to: "2026-11-22" });
    expect(rangeFor("this_month", "2026-11-01")).toEqual({ from: "2026-11-01", to: "2026-11-01" });
  });

  it("last month is the whole previous calendar month", () => {
    expect(rangeFor("last_month", "2026-11-22")).toEqual({ from: "2026-10-01", to: "2026-10-31" });
    expect(rangeFor("last_month", "2026-01-15")).toEqual({ from: "2025-12-01", to: "2025-12-31" });
    expect(rangeFor("last_month", "2024-03-31")).toEqual({ from: "2024-02-01", to: "2024-02-29" });
    expect(rangeFor("last_month", "2025-03-01")).toEqual({ from: "2025-02-01", to: "2025-02-28" });
  });

  it("last 30 and 90 days include today", () => {
    expect(rangeFor("last_30", "2026-11-22")).toEqual({ from: "2026-10-24", to: "2026-11-22" });
    expect(daysInRange("2026-10-24", "2026-11-22")).toBe(30);
    expect(rangeFor("last_30", "2026-03-01")).toEqual({ from: "2026-01-31", to: "2026-03-01" });
    expect(rangeFor("last_90", "2026-11-22")).toEqual({ from: "2026-08-25", to: "2026-11-22" });
  });

  it("custom takes its dates, or falls back to this month", () => {
    expect(rangeFor("custom", "2026-11-22", { from: "2026-01-05", to: "2026-02-10" })).toEqual({ from: "2026-01-05", to: "2026-02-10" });
    expect(rangeFor("custom", "2026-11-22", { from: "bad" })).toEqual({ from: "2026-11-01", to: "2026-11-22" });
  });

  it("does not depend on daylight-saving changes", () => {
    // Around the European and US clock changes.
    expect(addDays("2026-03-28", 2)).toBe("2026-03-30");
    expect(addDays("2026-11-01", -1)).toBe("2026-10-31");
    expect(listDays("2026-03-07", "2026-03-10")).toEqual(["2026-03-07", "2026-03-08", "2026-03-09", "2026-03-10"]);
  });

  it("today is the local calendar day", () => {
    expect(todayIso(new Date(2026, 0, 31, 23, 59))).toBe("2026-01-31");
    expect(todayIso(new Date(2026, 1, 1, 0, 1))).toBe("2026-02-01");
  });
});

describe("helpers", () => {
  it("validates days", () => {
    expect(isIsoDay("2024-02-29")).toBe(true);
    expect(isIsoDay("2025-02-29")).toBe(false);
    expect(isIsoDay("2025-13-01")).toBe(false);
    expect(isIsoDay("")).toBe(false);
    expect(endOfMonth("2024-02-10")).toBe("2024-02-29");
  });

  it("explains a bad custom range", () => {
    expect(rangeProblem({ from: "2026-01-02", to: "2026-01-01" })).toMatch(/on or before/);
    expect(rangeProblem({ from: "", to: "2026-01-01" })).toMatch(/start date/);
    expect(rangeProblem({ from: "2000-01-01", to: "2026-01-01" })).toMatch(/3660/);
    expect(rangeProblem({ from: "2026-01-01", to: "2026-01-01" })).toBeNull();
  });

  it("forecasts to the end of this month, and not for periods that are over", () => {
    const today = "2026-11-22";
    expect(forecastEnd({ preset: "this_month", ...rangeFor("this_month", today) }, today)).toBe("2026-11-30");
    expect(forecastEnd({ preset: "last_month", ...rangeFor("last_month", today) }, today)).toBeNull();
    expect(forecastEnd({ preset: "last_30", ...rangeFor("last_30", today) }, today)).toBeNull();
    expect(forecastEnd({ preset: "custom", from: "2026-11-01", to: "2026-12-31" }, today)).toBe("2026-12-31");
  });

  it("round-trips through the URL", () => {
    const today = "2026-11-22";
    const custom = periodFromSearch(new URLSearchParams("period=custom&from=2026-01-01&to=2026-01-31"), today);
    expect(custom).toEqual({ preset: "custom", from: "2026-01-01", to: "2026-01-31" });
    expect(periodToSearch(custom, new URLSearchParams("by=model")).toString()).toBe("by=model&period=custom&from=2026-01-01&to=2026-01-31");
    expect(periodFromSearch(new URLSearchParams("period=nonsense"), today)).toEqual({ preset: "this_month", from: "2026-11-01", to: "2026-11-22" });
    expect(periodFromSearch(new URLSearchParams("period=custom&from=2026-02-01&to=2026-01-01"), today, "last_30").preset).toBe("last_30");
  });
});
