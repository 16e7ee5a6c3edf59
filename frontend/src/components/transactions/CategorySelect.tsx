import type { SelectHTMLAttributes } from "react";
import type { CategoryNode } from "../../api/types";

type Props = Omit<SelectHTMLAttributes<HTMLSelectElement>, "value" | "onChange" | "children"> & {
  categories: CategoryNode[];
  value: number | null;
  onChange: (id: number | null) => void;
  /** The label of the empty choice ("Uncategorized"), or null for none. */
  emptyLabel?: string | null;
};

/** A category picker: top-level categories with their subcategories indented under them. */
export function CategorySelect({ categories, value, onChange, emptyLabel = "Uncategorized", ...rest }: Props) {
  return (
    <select value={value == null ? "" : String(value)} onChange={(e) => onChange(e.target.value ? Number(e.target.value) : null)} {...rest}>
      {emptyLabel !== null && <option value="">{emptyLabel}</option>}
      {categories.map((node) => [
        <option key={node.id} value={node.id}>
          {`${node.icon ? `${node.icon} ` : ""}${node.name}`}
        </option>,
        ...node.children.map((child) => (
          <option key={child.id} value={child.id}>
            {`\u00a0\u00a0\u00a0\u00a0${child.icon ? `${child.icon} ` : ""}${child.name}`}
          </option>
        )),
      ])}
    </select>
  );
}
