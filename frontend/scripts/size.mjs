// Prints the gzipped size of what the first page loads: the entry chunk, the chunks it imports
// statically, and their CSS (from dist/.vite/manifest.json). Fails above the budget.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const BUDGET_BYTES = 300 * 1024;
const dist = fileURLToPath(new URL("../dist/", import.meta.url));

let manifest;
try {
  manifest = JSON.parse(readFileSync(join(dist, ".vite", "manifest.json"), "utf8"));
} catch {
  console.error("size: dist/.vite/manifest.json not found; run `npm run build` first.");
  process.exit(2);
}

const entries = Object.entries(manifest).filter(([, chunk]) => chunk.isEntry);
const files = new Set();
const visit = (key) => {
  const chunk = manifest[key];
  if (!chunk || files.has(chunk.file)) return;
  files.add(chunk.file);
  for (const css of chunk.css ?? []) files.add(css);
  for (const imported of chunk.imports ?? []) visit(imported);
};
for (const [key] of entries) visit(key);

let total = 0;
const rows = [...files].sort().map((file) => {
  const raw = readFileSync(join(dist, file));
  const gz = gzipSync(raw, { level: 9 }).length;
  total += gz;
  return { file, raw: raw.length, gz };
});
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
for (const row of rows) console.log(`${row.file.padEnd(40)} ${kb(row.raw).padStart(10)} raw ${kb(row.gz).padStart(10)} gzip`);
console.log(`first page (entry JS + CSS): ${kb(total)} gzipped (budget ${kb(BUDGET_BYTES)})`);
if (total > BUDGET_BYTES) {
  console.error("size: over budget");
  process.exit(1);
}
