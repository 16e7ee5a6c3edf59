import type { ReactNode } from "react";
import { PageHeader } from "../components/PageHeader";

export function ComingNext({ title, children }: { title: string; children: ReactNode }) {
  return (
    <>
      <PageHeader title={title} />
      <section className="panel coming-next" aria-label={`${title}: coming next`}>
        <h2>Coming next</h2>
        <p>{children}</p>
      </section>
    </>
  );
}
