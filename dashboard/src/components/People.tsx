// Pieces shared by the admin pages (users, API keys, audit log).
import type { ReactNode } from "react";
import type { Role } from "../api";
import { useI18n, type Dict } from "../i18n";

export const ROLES: Role[] = ["admin", "analyst", "operator"];

export function roleName(role: Role, t: Dict): string {
  return role === "admin" ? t.roleAdmin : role === "analyst" ? t.roleAnalyst : t.roleOperator;
}

export function RoleOptions() {
  const { t } = useI18n();
  return (
    <>
      {ROLES.map((role) => (
        <option key={role} value={role}>
          {roleName(role, t)}
        </option>
      ))}
    </>
  );
}

/** What happened after an action: a refusal (alert) or a confirmation (status). */
export interface Outcome {
  ok: boolean;
  text: string;
}

export function OutcomeLine({ outcome, testId }: { outcome: Outcome | null; testId?: string }) {
  if (!outcome) return null;
  return outcome.ok ? (
    <div className="notice small" role="status" data-testid={testId}>
      {outcome.text}
    </div>
  ) : (
    <div className="error small" role="alert" data-testid={testId}>
      {outcome.text}
    </div>
  );
}

/** Heading plus body; when the api said 403, only the heading and why. */
export function AdminPage({
  title,
  forbidden,
  actions,
  children,
}: {
  title: string;
  forbidden: boolean;
  actions?: ReactNode;
  children: ReactNode;
}) {
  const { t } = useI18n();
  return (
    <div className="page">
      <div className="page-head">
        <h1>{title}</h1>
        {!forbidden && actions}
      </div>
      {forbidden ? (
        <div className="error" role="alert" data-testid="forbidden">
          {t.adminOnly}
        </div>
      ) : (
        children
      )}
    </div>
  );
}
