// The Transactions page (loaded lazily): the bank side of Spendwatch, one section per sub-route.
import { Route, Routes } from "react-router-dom";
import { NotFound } from "./NotFound";
import BankAccounts from "./transactions/BankAccounts";
import { MoneyProvider } from "./transactions/context";
import ImportStatement from "./transactions/ImportStatement";
import Recurring from "./transactions/Recurring";
import Rules from "./transactions/Rules";
import TransactionList from "./transactions/TransactionList";
import "./transactions/transactions.css";

export default function Transactions() {
  return (
    <MoneyProvider>
      <Routes>
        <Route index element={<TransactionList />} />
        <Route path="accounts" element={<BankAccounts />} />
        <Route path="import" element={<ImportStatement />} />
        <Route path="rules" element={<Rules />} />
        <Route path="recurring" element={<Recurring />} />
        <Route path="*" element={<NotFound />} />
      </Routes>
    </MoneyProvider>
  );
}
