import { useState, type FormEvent } from "react";
import { Attachments } from "../components/Attachments";
import { del, get, post, type ConversationDetail, type TranscriptEvent } from "../api";
import { dateTime, num, time } from "../format";
import { useLoad } from "../hooks";
import { useI18n, type Dict } from "../i18n";

function actorLabel(t: Dict, actor: TranscriptEvent["actor"]): string {
  return { user: t.actorUser, bot: t.actorBot, operator: t.actorOperator, action: t.actorAction }[actor] ?? actor;
}

export function ConversationPage({ id, canEdit }: { id: string; canEdit: boolean }) {
  const { t, lang } = useI18n();
  const { data, error, reload } = useLoad(() => get<ConversationDetail>(`/api/conversations/${encodeURIComponent(id)}`), [id]);
  const [tag, setTag] = useState("");
  const [actionError, setActionError] = useState<string | null>(null);

  const run = async (work: () => Promise<unknown>) => {
    setActionError(null);
    try {
      await work();
      reload();
    } catch (err) {
      setActionError((err as Error).message);
    }
  };

  const addTag = (event: FormEvent) => {
    event.preventDefault();
    const value = tag.trim();
    if (!value) return;
    setTag("");
    void run(() => post(`/api/conversations/${encodeURIComponent(id)}/tags`, { tag: value }));
  };

  return (
    <div className="page">
      <a href="#/conversations" className="back">
        {t.back}
      </a>
      {error && <div className="error">{error}</div>}
      {!data && !error && <div className="muted">{t.loading}</div>}
      {data && (
        <>
          <div className="page-head">
            <h1>
              {t.transcript} · <span className="mono">{data.sender_id}</span>
            </h1>
          </div>
          <div className="card meta" data-testid="conversation-meta">
            <span>
              {t.started}: {dateTime(data.started_at, lang)}
            </span>
            <span>
              {t.channel}: {data.channel ?? "—"}
            </span>
            <span>
              {t.language}: {data.language ?? "—"}
            </span>
            <span>
              {t.turns}: {data.turns}
            </span>
            <span>
              {t.fallbacks}: {data.fallbacks}
            </span>
            <span>
              {t.csat}: {data.csat ?? "—"}
            </span>
            <span data-testid="reviewed-state">
              {t.reviewed}: {data.reviewed ? t.yes : t.no}
            </span>
          </div>
          <div className="card row wrap">
            <div className="tags" data-testid="conversation-tags">
              {data.tags.map((name) => (
                <span className="tag" key={name}>
                  {name}
                  {canEdit && (
                    <button
                      type="button"
                      className="tag-x"
                      aria-label={`remove ${name}`}
                      onClick={() => void run(() => del(`/api/conversations/${encodeURIComponent(id)}/tags/${encodeURIComponent(name)}`))}
                    >
                      ×
                    </button>
                  )}
                </span>
              ))}
            </div>
            {canEdit && (
              <>
                <form className="row" onSubmit={addTag}>
                  <input name="tag" placeholder={t.addTag} value={tag} onChange={(e) => setTag(e.target.value)} />
                  <button type="submit">{t.addTag}</button>
                </form>
                <button
                  type="button"
                  className={data.reviewed ? "" : "primary"}
                  data-testid="toggle-reviewed"
                  onClick={() => void run(() => post(`/api/conversations/${encodeURIComponent(id)}/review`, { reviewed: !data.reviewed }))}
                >
                  {data.reviewed ? t.markUnreviewed : t.markReviewed}
                </button>
              </>
            )}
          </div>
          {actionError && <div className="error">{actionError}</div>}
          <Attachments conversationId={id} />
          <table className="table transcript" data-testid="transcript">
            <thead>
              <tr>
                <th>
                  <span className="sr-only">{t.author}</span>
                </th>
                <th>{t.text}</th>
                <th>{t.intent}</th>
                <th>{t.confidence}</th>
                <th>{t.action}</th>
              </tr>
            </thead>
            <tbody>
              {data.events.map((event, index) => (
                <tr key={index} className={`actor-${event.actor}`} data-actor={event.actor}>
                  <td className="nowrap">
                    <div className="actor">{actorLabel(t, event.actor)}</div>
                    <div className="muted small">{time(event.timestamp, lang)}</div>
                  </td>
                  <td className="pre">{event.text ?? ""}</td>
                  <td className="mono">{event.intent ?? ""}</td>
                  <td className={event.confidence !== null && event.confidence < 0.5 ? "low" : ""}>
                    {event.confidence === null || event.confidence === undefined ? "" : num(event.confidence, 2)}
                  </td>
                  <td className="mono">{event.action ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}
