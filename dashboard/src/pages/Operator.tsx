import { useEffect, useRef, useState, type FormEvent } from "react";
import { get, post, type Handoff, type HandoffDetail } from "../api";
import { FailedNotices } from "../components/FailedNotices";
import { time } from "../format";
import { useLoad } from "../hooks";
import { useI18n } from "../i18n";

const POLL_MS = 2000;

function HandoffList({ title, items, selected, onSelect, testId }: {
  title: string;
  items: Handoff[];
  selected: string | null;
  onSelect: (id: string) => void;
  testId: string;
}) {
  const { t, lang } = useI18n();
  return (
    <section className="card handoff-list" data-testid={testId}>
      <h2>
        {title} <span className="count">{items.length}</span>
      </h2>
      {items.length === 0 && <div className="muted">{t.none}</div>}
      {items.map((h) => (
        <button
          type="button"
          key={h.id}
          data-handoff={h.id}
          data-sender={h.sender_id}
          className={`handoff-item ${String(h.id) === selected ? "selected" : ""}`}
          onClick={() => onSelect(String(h.id))}
        >
          <div className="row spread">
            <span className="mono small">{h.sender_id}</span>
            <span className="muted small">
              {h.channel ?? ""} · {time(h.requested_at, lang)}
            </span>
          </div>
          <div className="ellipsis">{h.last_message ?? ""}</div>
          {h.operator && <div className="muted small">{h.operator}</div>}
        </button>
      ))}
    </section>
  );
}

export function OperatorPage() {
  const { t, lang } = useI18n();
  const [selected, setSelected] = useState<string | null>(null);
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const lists = useLoad(
    async () => {
      const [waiting, active] = await Promise.all([
        get<Handoff[]>("/api/handoffs", { status: "waiting" }),
        get<Handoff[]>("/api/handoffs", { status: "active" }),
      ]);
      return { waiting, active };
    },
    [],
    POLL_MS,
  );
  const detail = useLoad<HandoffDetail | null>(
    () => (selected ? get<HandoffDetail>(`/api/handoffs/${selected}`) : Promise.resolve(null)),
    [selected],
    POLL_MS,
  );
  const logRef = useRef<HTMLDivElement>(null);
  const count = detail.data?.messages.length ?? 0;
  useEffect(() => {
    if (logRef.current) logRef.current.scrollTop = logRef.current.scrollHeight;
  }, [count, selected]);

  const run = async (work: () => Promise<unknown>) => {
    setError(null);
    try {
      await work();
    } catch (err) {
      setError((err as Error).message);
    }
    lists.reload();
    detail.reload();
  };

  const send = (event: FormEvent) => {
    event.preventDefault();
    const value = text.trim();
    if (!value || !selected) return;
    setText("");
    void run(() => post(`/api/handoffs/${selected}/messages`, { text: value }));
  };

  const h = detail.data && String(detail.data.id) === selected ? detail.data : null;

  return (
    <div className="page operator">
      <div className="page-head">
        <h1>{t.operator}</h1>
      </div>
      {lists.error && <div className="error">{lists.error}</div>}
      <div className="operator-grid">
        <div className="operator-lists">
          <HandoffList title={t.waiting} items={lists.data?.waiting ?? []} selected={selected} onSelect={setSelected} testId="handoffs-waiting" />
          <HandoffList title={t.active} items={lists.data?.active ?? []} selected={selected} onSelect={setSelected} testId="handoffs-active" />
        </div>
        <section className="card operator-chat" data-testid="handoff-detail">
          {!selected && <div className="muted">{t.pickHandoff}</div>}
          {selected && !h && <div className="muted">{t.loading}</div>}
          {h && (
            <>
              <div className="row spread">
                <div>
                  <div className="mono">{h.sender_id}</div>
                  <div className="muted small">
                    {h.channel ?? ""} · {h.language ?? ""} · <span data-testid="handoff-status" data-status={h.status}>
                      {{ waiting: t.waiting, active: t.active, closed: t.closed }[h.status] ?? h.status}
                    </span>
                    {h.operator ? ` · ${h.operator}` : ""}
                  </div>
                </div>
                <div className="row">
                  {h.status === "waiting" && (
                    <button type="button" className="primary" onClick={() => void run(() => post(`/api/handoffs/${h.id}/take`))}>
                      {t.take}
                    </button>
                  )}
                  {h.status === "active" && (
                    <button type="button" onClick={() => void run(() => post(`/api/handoffs/${h.id}/release`))}>
                      {t.handBack}
                    </button>
                  )}
                </div>
              </div>
              <div
                className="chat-log"
                ref={logRef}
                data-testid="handoff-messages"
                role="log"
                aria-label={t.transcript}
                // Scrollable, so reachable by keyboard to scroll it back.
                tabIndex={0}
              >
                {h.messages.map((m, i) => (
                  <div key={i} className={`bubble bubble-${m.actor}`} data-actor={m.actor}>
                    <div className="pre">{m.text}</div>
                    <div className="muted small">{time(m.timestamp, lang)}</div>
                  </div>
                ))}
              </div>
              {h.status === "active" && (
                <form className="reply" onSubmit={send}>
                  <textarea
                    name="reply"
                    rows={2}
                    placeholder={t.replyPlaceholder}
                    value={text}
                    onChange={(e) => setText(e.target.value)}
                    onKeyDown={(e) => {
                      if (e.key === "Enter" && !e.shiftKey) {
                        e.preventDefault();
                        e.currentTarget.form?.requestSubmit();
                      }
                    }}
                  />
                  <button type="submit" className="primary">
                    {t.reply}
                  </button>
                </form>
              )}
            </>
          )}
          {error && <div className="error">{error}</div>}
        </section>
      </div>
      <FailedNotices canRetry />
    </div>
  );
}
