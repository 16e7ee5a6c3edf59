import { NavLink } from "react-router-dom";

export const MONEY_TABS = [
  { to: "/transactions", label: "Transactions", end: true },
  { to: "/transactions/accounts", label: "Bank accounts" },
  { to: "/transactions/import", label: "Import" },
  { to: "/transactions/rules", label: "Rules" },
  { to: "/transactions/recurring", label: "Recurring" },
];

/** The sections of the Transactions page. */
export function MoneyTabs() {
  return (
    <nav className="money-tabs" aria-label="Transactions sections">
      <ul>
        {MONEY_TABS.map((tab) => (
          <li key={tab.to}>
            <NavLink to={tab.to} end={tab.end}>
              {tab.label}
            </NavLink>
          </li>
        ))}
      </ul>
    </nav>
  );
}
