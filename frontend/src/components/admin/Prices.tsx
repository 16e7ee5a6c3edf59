import { useRef, useState, type FormEvent } from "react";
import { api } from "../../api/endpoints";
import { messageOf } from "../../api/errors";
import type { PriceOverride, PriceOverrideIn } from "../../api/types";
import { formatDay } from "../../lib/format";
import { providerName } from "../../lib/labels";
import { useAsync } from "../../lib/useAsync";
import { focusFirstError, FormError, SelectField, TextField } from "../Field";
import { EmptyState, ErrorState, Loading, Notice } from "../Notice";
import { ConfirmBox, isSessionEnd, trimZeros } from "../channels/forms";

const today = () => {
  const d = new Date();
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, "0")}-${String(d.getUTCDate()).padStart(2, "0")}`;
};

const PRICE_FIELDS = [
  ["input_per_million", "Input", true],
  ["output_per_million", "Output", true],
  ["cache_read_per_million", "Cache read", false],
  ["cache_write_per_million", "Cache write", false],
] as const;

type PriceKey = (typeof PRICE_FIELDS)[number][0];

function PriceForm({ providers, onAdded, onCancel }: { providers: { kind: string; label: string }[]; onAdded: (p: PriceOverride) => void; onCancel: () => void }) {
  const [provider, setProvider] = useState(providers[0]?.kind ?? "openai");
  const [model, setModel] = useState("");
  const [validFrom, setValidFrom] = useState(today());
  const [prices, setPrices] = useState<Record<PriceKey, string>>({ input_per_million: "", output_per_million: "", cache_read_per_million: "", cache_write_per_million: "" });
  const [note, setNote] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setBusy(true);
    const body: PriceOverrideIn = {
      provider,
      model: model.trim(),
      valid_from: validFrom,
      input_per_million: prices.input_per_million.trim(),
      output_per_million: prices.output_per_million.trim(),
      cache_read_per_million: prices.cache_read_per_million.trim() || null,
      cache_write_per_million: prices.cache_write_per_million.trim() || null,
      note: note.trim(),
    };
    try {
      onAdded(await api.admin.addPrice(body));
    } catch (err) {
      setError(err);
      setBusy(false);
      focusFirstError(formRef.current);
    }
  };

  return (
    <form ref={formRef} className="card inline-form" aria-labelledby="price-form-h" onSubmit={submit} aria-busy={busy}>
      <h3 id="price-form-h">Add a price</h3>
      <FormError error={error} fields={["provider", "model", "valid_from", "note", ...PRICE_FIELDS.map(([k]) => k)]} />
      <div className="field-grid">
        <SelectField name="provider" label="Provider" value={provider} onChange={(e) => setProvider(e.target.value)} error={error}>
          {providers.map((p) => (
            <option key={p.kind} value={p.kind}>
              {p.label}
            </option>
          ))}
        </SelectField>
        <TextField name="model" label="Model" required autoComplete="off" spellCheck={false} placeholder="gpt-4o" value={model} onChange={(e) => setModel(e.target.value)} error={error} />
        <TextField name="valid_from" label="Valid from (UTC day)" type="date" required value={validFrom} onChange={(e) => setValidFrom(e.target.value)} error={error} />
        {PRICE_FIELDS.map(([key, label, required]) => (
          <TextField
            key={key}
            name={key}
            label={`${label} per million tokens`}
            required={required}
            inputMode="decimal"
            autoComplete="off"
            placeholder={required ? "2.50" : "optional"}
            value={prices[key]}
            onChange={(e) => setPrices((cur) => ({ ...cur, [key]: e.target.value.replace(",", ".") }))}
            error={error}
          />
        ))}
      </div>
      <TextField name="note" label="Note" maxLength={300} autoComplete="off" value={note} onChange={(e) => setNote(e.target.value)} error={error} help="Optional: where the price comes from." />
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? "Adding…" : "Add price"}
        </button>
        <button type="button" className="btn btn-ghost" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function PriceRow({ price, onDeleted }: { price: PriceOverride; onDeleted: (p: PriceOverride) => void }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const money = (v: string | null) => (v == null ? "—" : trimZeros(String(v)));
  const remove = async () => {
    setBusy(true);
    try {
      await api.admin.removePrice(price.id);
      onDeleted(price);
    } catch (err) {
      setBusy(false);
      setConfirming(false);
      if (!isSessionEnd(err)) setError(messageOf(err));
    }
  };
  return (
    <tr>
      <td>{providerName(price.provider)}</td>
      <td className="wrap">
        <code>{price.model}</code>
      </td>
      <td>{formatDay(price.valid_from, true)}</td>
      <td className="num">{money(price.input_per_million)}</td>
      <td className="num">{money(price.output_per_million)}</td>
      <td className="num">{money(price.cache_read_per_million)}</td>
      <td className="num">{money(price.cache_write_per_million)}</td>
      <td className="wrap small">{price.note}</td>
      <td className="wrap">
        {confirming ? (
          <ConfirmBox label={`Confirm deleting the price of ${price.model}`} confirmText="Delete" busyText="Deleting…" busy={busy} onConfirm={remove} onCancel={() => setConfirming(false)}>
            <p>Delete this price? Estimates fall back to the bundled price database.</p>
          </ConfirmBox>
        ) : (
          <button type="button" className="btn btn-danger-outline btn-small" onClick={() => setConfirming(true)}>
            Delete<span className="visually-hidden"> the price of {price.model} from {price.valid_from}</span>
          </button>
        )}
        {error && (
          <span className="small text-danger block" role="alert">
            {error}
          </span>
        )}
      </td>
    </tr>
  );
}

/** Admin price overrides for cost estimates (/api/admin/prices). */
export function Prices() {
  const data = useAsync(async (signal) => {
    const [prices, providers] = await Promise.all([api.admin.prices(signal), api.providers.list()]);
    return { prices: prices.items, providers: providers.items.filter((p) => p.category === "ai") };
  }, []);
  const [adding, setAdding] = useState(false);
  const [flash, setFlash] = useState<string | null>(null);
  const addRef = useRef<HTMLButtonElement>(null);
  if (data.error) return <ErrorState error={data.error} what="the prices" onRetry={data.reload} />;
  if (!data.data) return <Loading>Loading prices…</Loading>;
  const { prices, providers } = data.data;
  return (
    <>
      <p className="muted small">
        Prices in USD per million tokens that override or add to the bundled price database. They apply to estimates made from their day on, for accounts
        whose provider reports no cost of its own.
      </p>
      {flash && <Notice kind="success">{flash}</Notice>}
      {adding ? (
        <PriceForm
          providers={providers.length ? providers : [{ kind: "openai", label: "OpenAI" }]}
          onCancel={() => {
            setAdding(false);
            requestAnimationFrame(() => addRef.current?.focus());
          }}
          onAdded={(p) => {
            data.setData((d) => ({ ...d!, prices: [...d!.prices, p] }));
            setFlash(`Added the price of ${p.model} from ${p.valid_from}.`);
            setAdding(false);
            requestAnimationFrame(() => addRef.current?.focus());
          }}
        />
      ) : (
        <button type="button" className="btn btn-secondary" ref={addRef} onClick={() => setAdding(true)}>
          Add a price
        </button>
      )}
      {prices.length === 0 ? (
        <EmptyState title="No price overrides: estimates use the bundled prices." />
      ) : (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">Price overrides</caption>
            <thead>
              <tr>
                <th scope="col">Provider</th>
                <th scope="col">Model</th>
                <th scope="col">From</th>
                <th scope="col" className="num">
                  Input
                </th>
                <th scope="col" className="num">
                  Output
                </th>
                <th scope="col" className="num">
                  Cache read
                </th>
                <th scope="col" className="num">
                  Cache write
                </th>
                <th scope="col">Note</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {prices.map((p) => (
                <PriceRow
                  key={p.id}
                  price={p}
                  onDeleted={(gone) => {
                    data.setData((d) => ({ ...d!, prices: d!.prices.filter((x) => x.id !== gone.id) }));
                    setFlash(`Deleted the price of ${gone.model}.`);
                  }}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
