import { describe, expect, it } from "vitest";
import { addDecimals, compareDecimals, parseDecimal, ratio, roundDecimal, scaleDecimal, subtractDecimals } from "./decimal";
import { formatMoney, formatPercent, formatTotals, groupDigits } from "./format";

describe("decimal arithmetic on money strings", () => {
  it("adds without float errors", () => {
    expect(0.1 + 0.2).not.toBe(0.3); // the problem this avoids
    expect(addDecimals("0.1", "0.2")).toBe("0.3");
    expect(addDecimals("7.9468400000", "7.6639000000", "10.0908200000")).toBe("25.7015600000");
    expect(addDecimals("-1.5", "1.25")).toBe("-0.25");
    expect(addDecimals()).toBe("0");
    expect(subtractDecimals("100.00", "0.01")).toBe("99.99");
  });

  it("parses the forms Python's Decimal produces", () => {
    expect(parseDecimal("0E-10")).toEqual({ units: 0n, scale: 10 });
    expect(addDecimals("1E+2", "0.5")).toBe("100.5");
    expect(() => parseDecimal("12,5")).toThrow();
    expect(() => parseDecimal("")).toThrow();
  });

  it("rounds half away from zero, exactly", () => {
    expect(roundDecimal("1.005", 2)).toBe("1.01"); // a float would give 1.00
    expect(roundDecimal("2.675", 2)).toBe("2.68");
    expect(roundDecimal("-0.005", 2)).toBe("-0.01");
    expect(roundDecimal("12.3449999999", 2)).toBe("12.34");
    expect(roundDecimal("7", 2)).toBe("7.00");
    expect(roundDecimal("9.995", 2)).toBe("10.00");
  });

  it("compares, scales and divides", () => {
    expect(compareDecimals("10.0", "9.99")).toBe(1);
    expect(compareDecimals("1.000", "1")).toBe(0);
    expect(scaleDecimal("144.1097300000", 30, 22, 4)).toBe("196.5133");
    expect(ratio("25", "100")).toBe(0.25);
    expect(ratio("1", "0")).toBe(0);
  });
});

describe("formatMoney", () => {
  it("formats the API's decimal strings", () => {
    expect(formatMoney("12.3400000000", "USD", { locale: "en-US" })).toBe("$12.34");
    expect(formatMoney("1234567.5", "USD", { locale: "en-US" })).toBe("$1,234,567.50");
    expect(formatMoney("-3.5", "USD", { locale: "en-US" })).toBe("-$3.50");
    expect(formatMoney("0E-10", "USD", { locale: "en-US" })).toBe("$0.00");
  });

  it("never rounds through a float", () => {
    // 1.005 as a double is 1.00499999999999989…; the string rounds up.
    expect(formatMoney("1.005", "USD", { locale: "en-US" })).toBe("$1.01");
    // Beyond 2^53 a double loses the cents entirely.
    expect(formatMoney("90071992547409.93", "USD", { locale: "en-US" })).toBe("$90,071,992,547,409.93");
    expect(formatMoney("1234567890123456.785", "USD", { locale: "en-US" })).toBe("$1,234,567,890,123,456.79");
  });

  it("uses the currency's digits and marks tiny amounts", () => {
    expect(formatMoney("1234.5", "JPY", { locale: "en-US" })).toBe("¥1,235");
    expect(formatMoney("0.0012", "USD", { locale: "en-US" })).toBe("< $0.01");
    expect(formatMoney("0.0012", "USD", { locale: "en-US", places: 4 })).toBe("$0.0012");
    expect(formatMoney(null, "USD")).toBe("—");
  });

  it("falls back to plain digits for a code Intl does not know", () => {
    expect(formatMoney("1234.5", "CREDITS", { locale: "en-US" })).toBe("1,234.50 CREDITS");
    expect(groupDigits("-1234567.891")).toBe("-1,234,567.891");
  });

  it("formats totals per currency and percentages", () => {
    expect(formatTotals({ USD: "1.50", EUR: "2" }, { locale: "en-US" })).toBe("$1.50 + €2.00");
    expect(formatPercent("45.2000")).toBe("45.2%");
    expect(formatPercent("100")).toBe("100%");
    expect(formatPercent("12.35")).toBe("12.4%");
  });
});
