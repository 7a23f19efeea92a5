import { useState } from "react";
import { download, get, post, type InboxItem } from "../api";
import { dateTime, num } from "../format";
import { useLoad } from "../hooks";
import { useI18n } from "../i18n";

type Status = InboxItem["status"];

function InboxRow({ item, intents, onDone }: { item: InboxItem; intents: string[]; onDone: () => void }) {
  const { t, lang } = useI18n();
  const [intent, setIntent] = useState(item.label ?? "");
  const [error, setError] = useState<string | null>(null);
  const run = async (work: () => Promise<unknown>) => {
    setError(null);
    try {
      await work();
      onDone();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <tr data-inbox-id={item.id}>
      <td className="pre">
        {item.text}
        {(item.occurrences ?? 1) > 1 && <span className="count"> ×{item.occurrences}</span>}
        <div className="muted small">
          {dateTime(item.created_at, lang)}
          {item.conversation_id !== null && (
            <>
              {" · "}
              <a href={`#/conversations/${item.conversation_id}`}>{t.transcript}</a>
            </>
          )}
        </div>
      </td>
      <td className="mono">{item.predicted_intent ?? "—"}</td>
      <td>{num(item.confidence, 2)}</td>
      <td>{item.language ?? ""}</td>
      <td>
        {item.status === "open" ? (
          <div className="row">
            <select aria-label={t.intent} name="intent" value={intent} onChange={(e) => setIntent(e.target.value)}>
              <option value="">{t.chooseIntent}</option>
              {intents.map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
            <button
              type="button"
              className="primary"
              disabled={!intent}
              onClick={() => void run(() => post(`/api/inbox/${item.id}/label`, { intent }))}
            >
              {t.assign}
            </button>
            <button type="button" onClick={() => void run(() => post(`/api/inbox/${item.id}/dismiss`))}>
              {t.dismiss}
            </button>
          </div>
        ) : (
          <span className="mono">{item.label ?? ""}</span>
        )}
        {error && <div className="error small">{error}</div>}
      </td>
    </tr>
  );
}

export function InboxPage() {
  const { t } = useI18n();
  const [status, setStatus] = useState<Status>("open");
  const items = useLoad(() => get<InboxItem[]>("/api/inbox", { status }), [status]);
  const intents = useLoad(() => get<string[]>("/api/intents"), []);
  const tabs: { id: Status; label: string }[] = [
    { id: "open", label: t.statusOpen },
    { id: "labelled", label: t.statusLabelled },
    { id: "dismissed", label: t.statusDismissed },
  ];

  return (
    <div className="page">
      <div className="page-head">
        <h1>{t.inbox}</h1>
        <button type="button" data-testid="export-yaml" onClick={() => void download("/api/inbox/export", undefined, "nlu_inbox.yml")}>
          {t.exportYaml}
        </button>
      </div>
      <div className="tabs" role="tablist">
        {tabs.map((tab) => (
          <button
            key={tab.id}
            type="button"
            role="tab"
            aria-selected={status === tab.id}
            className={status === tab.id ? "tab active" : "tab"}
            onClick={() => setStatus(tab.id)}
          >
            {tab.label}
          </button>
        ))}
      </div>
      {items.error && <div className="error">{items.error}</div>}
      {!items.data && !items.error && <div className="muted">{t.loading}</div>}
      {items.data && items.data.length === 0 && <div className="empty">{t.emptyInbox}</div>}
      {items.data && items.data.length > 0 && (
        <table className="table" data-testid="inbox-table">
          <thead>
            <tr>
              <th>{t.text}</th>
              <th>{t.predicted}</th>
              <th>{t.confidence}</th>
              <th>{t.language}</th>
              <th>{t.label}</th>
            </tr>
          </thead>
          <tbody>
            {items.data.map((item) => (
              <InboxRow key={`${item.id}-${item.status}`} item={item} intents={intents.data ?? []} onDone={items.reload} />
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
