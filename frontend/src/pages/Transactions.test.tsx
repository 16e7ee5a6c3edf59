import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { client } from "../api/client";
import { jsonResponse } from "../test/fetchMock";
import { callsTo, renderTransactions, signedInMoney, STAMP } from "./transactions/testUtils";

afterEach(() => {
  vi.unstubAllGlobals();
  client.clearSession();
});

const txn = {
  id: 41,
  bank_account_id: 1,
  posted_on: "2026-11-20",
  amount: "-6.65",
  currency: "USD",
  description: "STARBUCKS STORE 05412",
  merchant: "Starbucks",
  pending: false,
  category_id: 4,
  category_source: "keyword",
  category_confidence: "0.50",
  category_rule_id: null,
  notes: "",
  excluded: false,
  is_transfer: false,
  transfer_peer_id: null,
  transfer_locked: false,
  import_id: null,
  external_id: "",
  created_at: STAMP,
};

describe("Transactions list", () => {
  it("recategorizes a row, then creates a rule for similar ones", async () => {
    const user = userEvent.setup();
    let patches = 0;
    const { fetchMock } = signedInMoney({
      "GET /api/transactions": () => ({ items: [txn], next_cursor: null }),
      "PATCH /api/transactions/41": (_url, init) => {
        patches += 1;
        const body = JSON.parse(String(init.body));
        return { ...txn, category_id: body.category_id, category_source: "manual", raw: {}, ...(body.create_rule ? { created_rule_id: 9, applied_to: 2 } : {}) };
      },
    });
    renderTransactions("/transactions");

    const select = await screen.findByRole("combobox", { name: /Category of Starbucks/ });
    await waitFor(() => expect(select).toHaveValue("4"));
    await user.selectOptions(select, "3");
    const offer = within(await screen.findByRole("group", { name: "Create a rule" }));
    expect(offer.getByText("Starbucks")).toBeInTheDocument();
    expect(callsTo(fetchMock, "PATCH", "/api/transactions/41")).toEqual([{ category_id: 3 }]);

    await user.click(offer.getByRole("button", { name: "Yes, create a rule" }));
    expect(await screen.findByText(/2 other transactions changed/)).toBeInTheDocument();
    expect(patches).toBe(2);
    expect(callsTo(fetchMock, "PATCH", "/api/transactions/41")[1]).toEqual({
      category_id: 3,
      create_rule: true,
      apply_to_similar: true,
    });
  });

  it("applies filters to the query and loads more with the cursor", async () => {
    const user = userEvent.setup();
    const { calls } = signedInMoney({
      "GET /api/transactions": (url) =>
        url.searchParams.get("cursor")
          ? { items: [{ ...txn, id: 40, posted_on: "2026-11-19" }], next_cursor: null }
          : { items: [txn], next_cursor: "abc" },
    });
    renderTransactions("/transactions?category=uncategorized&min=-20&max=-5");
    await screen.findByRole("combobox", { name: /Category of Starbucks, Nov 20, 2026/ });
    const first = calls.find((c) => c.startsWith("GET /api/transactions?"));
    expect(first).toContain("uncategorized=true");
    expect(first).toContain("min_amount=-20");
    expect(first).toContain("max_amount=-5");

    await user.click(screen.getByRole("button", { name: "Load more" }));
    expect(await screen.findByRole("combobox", { name: /Category of Starbucks, Nov 19, 2026/ })).toBeInTheDocument();
    expect(calls.filter((c) => c.startsWith("GET /api/transactions?")).pop()).toContain("cursor=abc");
    expect(screen.queryByRole("button", { name: "Load more" })).not.toBeInTheDocument();
  });
});

const mapping = {
  date_column: "Posting Date",
  date_format: "%m/%d/%Y",
  description_columns: ["Description"],
  amount_column: "Amount",
  debit_column: null,
  credit_column: null,
  sign: "signed",
  decimal: ".",
  delimiter: ",",
  encoding: "utf-8",
  header_row: 0,
  id_column: null,
  balance_column: "Balance",
  merchant_column: null,
  currency_column: null,
  status_column: null,
  pending_column: null,
  fee_column: null,
};

function preview(sign: "signed" | "inverted") {
  const factor = sign === "signed" ? "" : "-";
  return {
    batch: {
      id: 3,
      bank_account_id: 1,
      filename: "chase.csv",
      format: "csv",
      status: "preview",
      mapping: { ...mapping, sign },
      statement_fingerprint: "f",
      rows_added: 0,
      rows_duplicate: 0,
      rows_skipped: 0,
      created_at: STAMP,
      committed_at: null,
      undone_at: null,
    },
    format: "csv",
    mapping: { ...mapping, sign },
    account_hint: null,
    currency: "",
    closing_balance: null,
    warnings: sign === "signed" ? ["Most amounts are positive: is money out shown as positive?"] : [],
    counts: { rows: 2, new: 1, duplicates: 1, skipped: 0 },
    totals: { total: `${factor}61.07`, by_month: { "2024-03": `${factor}61.07` } },
    statement_totals: { total: `${factor}73.07`, by_month: { "2024-03": `${factor}73.07` } },
    rows: [
      {
        line: 2,
        date: "2024-03-28",
        amount: `${factor}61.07`,
        currency: "",
        description: "TRADER JOE S #552",
        merchant: "",
        external_id: "",
        pending: false,
        balance: "3858.68",
        fingerprint: "h:1#0",
        raw: { Details: "DEBIT", "Posting Date": "03/28/2024", Description: "TRADER JOE S #552", Amount: "61.07", Balance: "3858.68" },
        duplicate: null,
      },
      {
        line: 3,
        date: "2024-03-27",
        amount: `${factor}12.00`,
        currency: "",
        description: "COFFEE",
        merchant: "",
        external_id: "",
        pending: false,
        balance: "3919.75",
        fingerprint: "h:2#0",
        raw: { Details: "DEBIT", "Posting Date": "03/27/2024", Description: "COFFEE", Amount: "12.00", Balance: "3919.75" },
        duplicate: "already imported on 2024-11-02 (import #1)",
      },
    ],
    skipped: [],
  };
}

describe("Statement import", () => {
  it("previews, re-previews with a corrected mapping, then commits", async () => {
    const user = userEvent.setup();
    const { fetchMock } = signedInMoney({
      "GET /api/import-formats": () => ({ items: [] }),
      "GET /api/imports": () => ({ items: [], next_before: null }),
      "POST /api/imports": () => jsonResponse(201, preview("signed")),
      "POST /api/imports/3/preview": () => preview("inverted"),
      "POST /api/imports/3/commit": () => ({ ...preview("inverted").batch, status: "committed", rows_added: 1, rows_duplicate: 1, committed_at: STAMP }),
    });
    renderTransactions("/transactions/import");

    const form = within(await screen.findByRole("form", { name: "Import a statement" }));
    await waitFor(() => expect(form.getByLabelText("Into the account")).toHaveValue("1"));
    const file = new File(["Details,Posting Date\n"], "chase.csv", { type: "text/csv" });
    await user.upload(form.getByLabelText(/^Statement file/), file);
    await user.click(form.getByRole("button", { name: "Preview" }));

    await screen.findByRole("heading", { name: "Preview of chase.csv" });
    expect(screen.getByText(/is money out shown as positive/)).toBeInTheDocument();
    expect(screen.getByText("already imported on 2024-11-02 (import #1)")).toBeInTheDocument();
    const [upload] = callsTo(fetchMock, "POST", "/api/imports") as FormData[];
    expect(upload).toBeInstanceOf(FormData);
    expect(upload.get("bank_account_id")).toBe("1");
    expect((upload.get("file") as File).name).toBe("chase.csv");

    // The columns come from the preview; the sign is corrected, then previewed again.
    const mappingForm = within(screen.getByRole("form", { name: "Column mapping" }));
    expect(mappingForm.getByRole("checkbox", { name: "Balance" })).not.toBeChecked();
    await user.selectOptions(mappingForm.getByLabelText("Sign"), "inverted");
    expect(screen.getByRole("button", { name: "Add 1 transaction" })).toBeDisabled(); // preview the change first
    await user.click(mappingForm.getByRole("button", { name: "Preview again" }));
    expect(await screen.findByRole("cell", { name: "-$61.07" })).toBeInTheDocument();
    expect(callsTo(fetchMock, "POST", "/api/imports/3/preview")).toEqual([{ mapping: { ...mapping, sign: "inverted" } }]);

    await user.click(screen.getByRole("button", { name: "Add 1 transaction" }));
    expect(await screen.findByRole("heading", { name: "Import finished" })).toBeInTheDocument();
    expect(callsTo(fetchMock, "POST", "/api/imports/3/commit")).toEqual([undefined]);
    expect(screen.getByText(/Added 1 transaction to Checking/)).toBeInTheDocument();
  });

  it("shows a mapping error from the server next to its field", async () => {
    const user = userEvent.setup();
    signedInMoney({
      "GET /api/import-formats": () => ({ items: [] }),
      "GET /api/imports": () => ({ items: [], next_before: null }),
      "POST /api/imports": () => jsonResponse(201, preview("signed")),
      "POST /api/imports/3/preview": () =>
        jsonResponse(422, {
          error: {
            code: "invalid_mapping",
            message: "The column mapping is not valid.",
            details: [{ loc: ["mapping", "date_column"], msg: "these dates do not parse", type: "invalid_mapping" }],
          },
        }),
    });
    renderTransactions("/transactions/import");
    const form = within(await screen.findByRole("form", { name: "Import a statement" }));
    await waitFor(() => expect(form.getByLabelText("Into the account")).toHaveValue("1"));
    await user.upload(form.getByLabelText(/^Statement file/), new File(["x"], "chase.csv", { type: "text/csv" }));
    await user.click(form.getByRole("button", { name: "Preview" }));
    const mappingForm = within(await screen.findByRole("form", { name: "Column mapping" }));
    await user.selectOptions(mappingForm.getByLabelText("Date column"), "Details");
    await user.click(mappingForm.getByRole("button", { name: "Preview again" }));
    expect(await mappingForm.findByText("these dates do not parse")).toBeInTheDocument();
    expect(mappingForm.getByLabelText("Date column")).toHaveAttribute("aria-invalid", "true");
  });
});

const rule = (id: number, name: string, position: number) => ({
  id,
  name,
  position,
  enabled: true,
  match: "all",
  conditions: [{ field: "merchant", op: "equals", value: name.toLowerCase() }],
  actions: [{ type: "set_category", category_id: 4 }],
  created_at: STAMP,
  updated_at: STAMP,
});

describe("Rules", () => {
  it("moves a rule down through POST /api/rules/reorder", async () => {
    const user = userEvent.setup();
    const { fetchMock } = signedInMoney({
      "GET /api/rules": () => ({ items: [rule(1, "Starbucks", 0), rule(2, "Peets", 1)] }),
      "POST /api/rules/reorder": () => ({ items: [rule(2, "Peets", 0), rule(1, "Starbucks", 1)] }),
    });
    renderTransactions("/transactions/rules");
    await screen.findByText(/merchant is “starbucks”/);
    await user.click(screen.getByRole("button", { name: "Move Starbucks down" }));
    await screen.findByText(/Moved “Starbucks” down/);
    expect(callsTo(fetchMock, "POST", "/api/rules/reorder")).toEqual([{ ids: [2, 1] }]);
    const items = screen.getAllByRole("listitem").map((li) => li.querySelector("strong")?.textContent).filter(Boolean);
    expect(items).toEqual(["Peets", "Starbucks"]);
    expect(screen.getByRole("button", { name: "Move Peets up" })).toBeDisabled();
  });

  it("tests an unsaved rule and shows what it would change", async () => {
    const user = userEvent.setup();
    const { fetchMock } = signedInMoney({
      "GET /api/rules": () => ({ items: [] }),
      "POST /api/rules/test": () => ({
        scanned: 120,
        matched: 1,
        changes: [
          { transaction_id: 41, posted_on: "2026-11-20", amount: "-6.65", currency: "USD", description: "STARBUCKS", merchant: "Starbucks", field: "category_id", before: 4, after: 3, manual: false },
        ],
      }),
    });
    renderTransactions("/transactions/rules");
    await screen.findByText("No rules yet.");
    await user.click(screen.getByRole("button", { name: "New rule" }));
    const editor = within(screen.getByRole("form", { name: "New rule" }));
    await user.type(editor.getByLabelText("Text"), "starbucks");
    await user.selectOptions(editor.getByLabelText("Category"), "3");
    await user.click(editor.getByRole("button", { name: "Test rule" }));
    expect(await editor.findByText(/Matches 1 transaction of the latest 120/)).toBeInTheDocument();
    expect(editor.getByText("Category: ☕ Coffee → 🍝 Restaurants")).toBeInTheDocument();
    expect(callsTo(fetchMock, "POST", "/api/rules/test")).toEqual([
      {
        match: "all",
        enabled: true,
        conditions: [{ field: "merchant", op: "contains", value: "starbucks" }],
        actions: [{ type: "set_category", category_id: 3 }],
      },
    ]);
  });
});

describe("Recurring", () => {
  it("lists the upcoming charges with exact amounts from decimal strings", async () => {
    signedInMoney({
      "GET /api/recurring": () => ({ today: "2026-11-22", items: [] }),
      "GET /api/recurring/upcoming": () => ({
        today: "2026-11-22",
        days: 30,
        items: [
          { date: "2026-11-21", merchant: "Gym", merchant_key: "gym", amount: "-24.99", currency: "USD", cadence: "monthly", kind: "expense", category_id: null },
          { date: "2026-12-01", merchant: "Rent", merchant_key: "rent", amount: "-1850.00", currency: "USD", cadence: "monthly", kind: "expense", category_id: null },
          { date: "2026-12-04", merchant: "Acme Corp", merchant_key: "acme corp", amount: "3245.18", currency: "USD", cadence: "biweekly", kind: "income", category_id: null },
          // Beyond a double's precision: 90071992547409.93 as a float formats as …409.94.
          { date: "2026-12-05", merchant: "Big one", merchant_key: "big one", amount: "-90071992547409.93", currency: "USD", cadence: "yearly", kind: "expense", category_id: null },
        ],
        totals: [{ currency: "USD", expenses: "-90071992549284.92", income: "3245.18", net: "-90071992546039.74" }],
      }),
    });
    renderTransactions("/transactions/recurring");
    expect(await screen.findByText("-$1,850.00")).toBeInTheDocument();
    expect(screen.getAllByText("+$3,245.18")).toHaveLength(2); // the charge and the income total
    expect(screen.getByText("-$24.99")).toBeInTheDocument();
    expect(screen.getByText("-$90,071,992,547,409.93")).toBeInTheDocument();
    expect(screen.getByText("-$90,071,992,546,039.74")).toBeInTheDocument();
    expect(screen.getByText("overdue")).toBeInTheDocument();
    expect(await screen.findByText("No recurring charges found yet.")).toBeInTheDocument();
  });
});
