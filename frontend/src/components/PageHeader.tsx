import { useEffect, useRef, type ReactNode } from "react";
import { useLocation } from "react-router-dom";

/** The page's h1, which also sets the document title and takes focus after client-side navigation. */
export function PageHeader({ title, children, subtitle }: { title: string; subtitle?: ReactNode; children?: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  const location = useLocation();
  useEffect(() => {
    document.title = `${title} · Spendwatch`;
  }, [title]);
  useEffect(() => {
    // Not on the first page load (focus stays at the top), but after each navigation inside the app.
    if (location.key !== "default") ref.current?.focus({ preventScroll: true });
  }, [location.pathname, location.key]);
  return (
    <div className="page-header">
      <div>
        <h1 ref={ref} tabIndex={-1}>
          {title}
        </h1>
        {subtitle && <p className="muted page-subtitle">{subtitle}</p>}
      </div>
      {children && <div className="page-actions">{children}</div>}
    </div>
  );
}
