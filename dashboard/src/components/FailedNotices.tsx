import { useState } from "react";
import { get, post, type FailedNotice } from "../api";
import { time } from "../format";
import { useLoad } from "../hooks";
import { useI18n } from "../i18n";

const POLL_MS = 15000;

/** Proactive messages the action server gave up on (payment notices, order
 * updates), with the reason; an operator can try one again. */
export function FailedNotices({ canRetry }: { canRetry: boolean }) {
  const { t, lang } = useI18n();
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<string | null>(null);
  const notices = useLoad(() => get<FailedNotice[]>("/api/notices/failed"), [], POLL_MS);

  const retry = async (id: number) => {
    setError(null);
    setResult(null);
    try {
      const answer = await post<{ id: number; sent: boolean }>(`/api/notices/${id}/retry`);
      setResult(answer.sent ? t.noticeSent : t.noticeStillFailing);
    } catch (err) {
      setError((err as Error).message);
    }
    notices.reload();
  };

  const items = notices.data ?? [];
  return (
    <section className="card" data-testid="failed-notices">
      <h2>
        {t.failedNotices} <span className="count">{items.length}</span>
      </h2>
      {notices.error && <div className="error">{notices.error}</div>}
      {!notices.error && notices.data && items.length === 0 && <div className="muted">{t.noFailedNotices}</div>}
      {items.map((n) => (
        <div key={n.id} className="row spread failed-notice" data-notice={n.id}>
          <div>
            <div>
              {n.kind === "EXTERNAL_order_status_changed" ? t.noticeOrderUpdate(n.order_id, n.order_state ?? "") : t.noticePayment(n.order_id)}
            </div>
            <div className="muted small">
              <span className="mono">{n.sender_id}</span> · {n.created_at ? time(n.created_at, lang) : ""} · {t.noticeAttempts(n.attempts)}
            </div>
            {n.last_error && <div className="muted small" data-testid="notice-error">{n.last_error}</div>}
          </div>
          {canRetry && (
            <button type="button" onClick={() => void retry(n.id)}>
              {t.noticeRetry}
            </button>
          )}
        </div>
      ))}
      {result && <div className="muted" data-testid="notice-result">{result}</div>}
      {error && <div className="error">{error}</div>}
    </section>
  );
}
