import { useState } from "react";
import { get, type ConversationSummary } from "../api";
import { RangeFilters, type RangeFilter } from "../components/Filters";
import { dateTime } from "../format";
import { useLoad } from "../hooks";
import { useI18n } from "../i18n";
import { navigate } from "../router";

const PAGE = 50;

interface Filters extends RangeFilter {
  tag: string;
  reviewed: string;
  q: string;
}

export function ConversationsPage() {
  const { t, lang } = useI18n();
  const [filter, setFilter] = useState<Filters>({ start: "", end: "", channel: "", tag: "", reviewed: "", q: "" });
  const [offset, setOffset] = useState(0);
  const update = (next: Filters) => {
    setOffset(0);
    setFilter(next);
  };
  const { data, error } = useLoad(
    () =>
      get<{ items: ConversationSummary[]; total: number }>("/api/conversations", {
        ...filter,
        limit: PAGE,
        offset,
      }),
    [JSON.stringify(filter), offset],
  );

  return (
    <div className="page">
      <div className="page-head">
        <h1>{t.conversations}</h1>
      </div>
      <div className="filters card">
        <RangeFilters value={filter} onChange={(v) => update({ ...filter, ...v })} />
        <label>
          {t.tag}
          <input name="tag" value={filter.tag} onChange={(e) => update({ ...filter, tag: e.target.value })} />
        </label>
        <label>
          {t.reviewed}
          <select name="reviewed" value={filter.reviewed} onChange={(e) => update({ ...filter, reviewed: e.target.value })}>
            <option value="">{t.any}</option>
            <option value="true">{t.yes}</option>
            <option value="false">{t.no}</option>
          </select>
        </label>
        <label className="grow">
          {t.search}
          <input name="q" type="search" value={filter.q} onChange={(e) => update({ ...filter, q: e.target.value })} />
        </label>
      </div>
      {error && <div className="error">{error}</div>}
      {!data && !error && <div className="muted">{t.loading}</div>}
      {data && (
        <>
          <table className="table" data-testid="conversations-table">
            <thead>
              <tr>
                <th>{t.started}</th>
                <th>{t.channel}</th>
                <th>{t.language}</th>
                <th>{t.turns}</th>
                <th>{t.fallbacks}</th>
                <th>{t.handoff}</th>
                <th>{t.csat}</th>
                <th>{t.reviewed}</th>
                <th>{t.tags}</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((c) => (
                <tr key={c.id} className="clickable" data-conversation={c.id} onClick={() => navigate(`/conversations/${c.id}`)}>
                  <td>
                    <a href={`#/conversations/${c.id}`}>{dateTime(c.started_at, lang)}</a>
                    <div className="muted small">{c.sender_id}</div>
                  </td>
                  <td>{c.channel ?? "—"}</td>
                  <td>{c.language ?? "—"}</td>
                  <td>{c.turns}</td>
                  <td>{c.fallbacks}</td>
                  <td>{c.handoff ? "✓" : ""}</td>
                  <td>{c.csat ?? ""}</td>
                  <td>{c.reviewed ? "✓" : ""}</td>
                  <td>
                    {c.tags.map((tag) => (
                      <span className="tag" key={tag}>
                        {tag}
                      </span>
                    ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="row pager">
            <span className="muted" data-testid="conversations-total">
              {t.total}: {data.total}
            </span>
            <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
              {t.prev}
            </button>
            <button type="button" disabled={offset + PAGE >= data.total} onClick={() => setOffset(offset + PAGE)}>
              {t.next}
            </button>
          </div>
        </>
      )}
    </div>
  );
}
