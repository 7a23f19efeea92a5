import { useState } from "react";
import { get, getPage, type AuditEntry, type AuditFacets } from "../api";
import { AdminPage } from "../components/People";
import { explain, isForbidden } from "../errors";
import { dateTime } from "../format";
import { useLoad } from "../hooks";
import { useI18n } from "../i18n";

const PAGE = 50;

interface Filters {
  actor: string;
  action: string;
  start: string;
  end: string;
}

function detailText(detail: AuditEntry["detail"]): string {
  if (!detail) return "";
  return Object.entries(detail)
    .map(([key, value]) => `${key}: ${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(", ");
}

export function AuditPage() {
  const { t, lang } = useI18n();
  const [filter, setFilter] = useState<Filters>({ actor: "", action: "", start: "", end: "" });
  const [offset, setOffset] = useState(0);
  const update = (next: Partial<Filters>) => {
    setOffset(0);
    setFilter({ ...filter, ...next });
  };
  const entries = useLoad(
    () => getPage<AuditEntry>("/api/audit", { ...filter, limit: PAGE, offset }),
    [JSON.stringify(filter), offset],
  );
  const facets = useLoad(() => get<AuditFacets>("/api/audit/facets"), [entries.data?.total]);
  const withCurrent = (values: string[] | undefined, current: string) =>
    current && !(values ?? []).includes(current) ? [current, ...(values ?? [])] : (values ?? []);

  return (
    <AdminPage title={t.audit} forbidden={isForbidden(entries.cause)}>
      <div className="filters card" role="search" aria-label={t.audit}>
        <label>
          {t.who}
          <select name="actor" value={filter.actor} onChange={(e) => update({ actor: e.target.value })}>
            <option value="">{t.allUsers}</option>
            {withCurrent(facets.data?.actors, filter.actor).map((actor) => (
              <option key={actor} value={actor}>
                {actor}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t.what}
          <select name="action" value={filter.action} onChange={(e) => update({ action: e.target.value })}>
            <option value="">{t.allActions}</option>
            {withCurrent(facets.data?.actions, filter.action).map((action) => (
              <option key={action} value={action}>
                {action}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t.from}
          <input type="date" name="start" value={filter.start} onChange={(e) => update({ start: e.target.value })} />
        </label>
        <label>
          {t.to}
          <input type="date" name="end" value={filter.end} onChange={(e) => update({ end: e.target.value })} />
        </label>
        <span className="muted small">{t.utcDays}</span>
      </div>
      {entries.error && (
        <div className="error" role="alert">
          {explain(entries.cause, t)}
        </div>
      )}
      {!entries.data && !entries.error && <div className="muted">{t.loading}</div>}
      {entries.data && entries.data.items.length === 0 && <div className="empty">{t.emptyAudit}</div>}
      {entries.data && entries.data.items.length > 0 && (
        <table className="table compact" data-testid="audit-table">
          <thead>
            <tr>
              <th>{t.when}</th>
              <th>{t.who}</th>
              <th>{t.what}</th>
              <th>{t.target}</th>
              <th>{t.details}</th>
            </tr>
          </thead>
          <tbody>
            {entries.data.items.map((entry) => (
              <tr key={entry.id} data-audit={entry.id} data-actor={entry.actor} data-action={entry.action}>
                <td className="nowrap">{dateTime(entry.at, lang)}</td>
                <td className="mono">{entry.actor}</td>
                <td className="mono">{entry.action}</td>
                <td className="mono">{entry.target ?? ""}</td>
                <td className="mono small pre">{detailText(entry.detail)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {entries.data && (
        <div className="row pager">
          <span className="muted" data-testid="audit-total">
            {t.total}: {entries.data.total}
          </span>
          <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
            {t.prev}
          </button>
          <button type="button" disabled={offset + PAGE >= entries.data.total} onClick={() => setOffset(offset + PAGE)}>
            {t.next}
          </button>
        </div>
      )}
    </AdminPage>
  );
}
