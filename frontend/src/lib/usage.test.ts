import { describe, expect, it } from "vitest";
import type { SummaryItem } from "../api/types";
import { contributors, dailySeries, dailyTotals, mainCurrency, parseGroup } from "./usage";

const item = (day: string, model: string, cost: string, currency = "USD"): SummaryItem => ({
  day,
  model,
  cost,
  currency,
  cost_source: "provider",
  input_tokens: 1,
  output_tokens: 1,
  requests: 1,
});

const items = [
  item("2026-11-01", "big", "0.1"),
  item("2026-11-01", "small", "0.2"),
  item("2026-11-02", "big", "0.2"),
  item("2026-11-03", "tiny", "0.01"),
  item("2026-11-02", "big", "5", "EUR"),
];

describe("usage aggregation", () => {
  it("ranks contributors with exact sums", () => {
    const ranked = contributors(items, "model", "USD");
    expect(ranked.map((c) => [c.key, c.amount])).toEqual([
      ["big", "0.3"],
      ["small", "0.2"],
      ["tiny", "0.01"],
    ]);
    expect(ranked[0].share).toBeCloseTo(0.3 / 0.51, 5);
  });

  it("builds daily series with zeros for missing days and merges the rest into Other", () => {
    const days = ["2026-11-01", "2026-11-02", "2026-11-03"];
    const series = dailySeries(items, days, "model", "USD", undefined, 2);
    expect(series.map((s) => s.label)).toEqual(["big", "Other"]);
    expect(series[0].amounts).toEqual(["0.1", "0.2", "0"]);
    expect(series[1].amounts).toEqual(["0.2", "0", "0.01"]);
    expect(dailyTotals(items, days, "USD")[0].amounts).toEqual(["0.3", "0.2", "0.01"]);
  });

  it("picks the largest currency and parses group_by", () => {
    expect(mainCurrency({ USD: "0.51", EUR: "5" })).toBe("EUR");
    expect(mainCurrency({})).toBe("USD");
    expect(parseGroup("day,provider")).toEqual(["day", "provider"]);
    expect(parseGroup("model")).toEqual(["model"]);
    expect(parseGroup("day,day")).toBeNull();
    expect(parseGroup("day,provider,model")).toBeNull();
    expect(parseGroup("colour")).toBeNull();
  });
});
