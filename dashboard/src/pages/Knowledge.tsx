// The knowledge base the assistant answers unplanned questions from: markdown
// documents per language. Every role reads them; admins create, edit (from
// the version they opened: a save after someone else's is refused, 409, and
// nothing changes), upload .md/.txt, delete and restore an older version;
// admins and analysts try a question exactly as a shopper would ask it. The
// action server picks a saved change up within seconds, without a restart.
import { useEffect, useState, type ChangeEvent, type FormEvent } from "react";
import {
  ApiError,
  del,
  get,
  loadSession,
  post,
  postFile,
  put,
  type KnowledgeDocument,
  type KnowledgeHistoryEntry,
  type KnowledgeSummary,
  type KnowledgeTryResult,
  type KnowledgeVersion,
  type ShopLanguage,
} from "../api";
import { Markdown } from "../components/Markdown";
import { OutcomeLine, type Outcome } from "../components/People";
import { dateTime } from "../format";
import { useLoad } from "../hooks";
import { useI18n, type Dict } from "../i18n";

const LANGUAGES: ShopLanguage[] = ["ru", "en"];
const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const MAX_BYTES = 64 * 1024;
const NEW = "\u0000new";

function problem(err: unknown, t: Dict): { conflict: boolean; text: string } {
  if (err instanceof ApiError && err.status === 409) return { conflict: true, text: t.kbConflict };
  if (err instanceof ApiError && err.status === 403) return { conflict: false, text: t.kbReadOnly };
  if (err instanceof ApiError && Array.isArray(err.detail)) {
    const msgs = (err.detail as { loc?: unknown[]; msg?: string }[]).map(
      (e) => `${(e.loc ?? []).slice(1).join(".")}: ${(e.msg ?? "").replace(/^Value error, /, "")}`,
    );
    return { conflict: false, text: `${t.error}: ${msgs.join("; ")}` };
  }
  return { conflict: false, text: `${t.error}: ${err instanceof Error ? err.message : String(err)}` };
}

function TryBox({ language }: { language: ShopLanguage }) {
  const { t } = useI18n();
  const [question, setQuestion] = useState("");
  const [result, setResult] = useState<KnowledgeTryResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const ask = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setResult(await post<KnowledgeTryResult>("/api/knowledge/try", { question, language }));
    } catch (err) {
      setResult(null);
      setError(problem(err, t).text);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="card" data-testid="kb-try">
      <h2>{t.kbTry}</h2>
      <p className="muted small">{t.kbTryHint}</p>
      <form className="row" onSubmit={ask}>
        <input
          className="grow"
          name="question"
          aria-label={t.kbQuestion}
          placeholder={t.kbQuestion}
          maxLength={500}
          value={question}
          onChange={(e) => setQuestion(e.target.value)}
        />
        <button type="submit" className="primary" disabled={busy || !question.trim()}>
          {t.kbAsk}
        </button>
      </form>
      {error && (
        <div className="error" role="alert">
          {error}
        </div>
      )}
      {result && (
        <div className="kb-answer" data-testid="kb-try-result">
          {result.answer ? (
            <p data-testid="kb-try-answer">{result.answer}</p>
          ) : (
            <p className="muted" data-testid="kb-try-answer">
              {t.kbNoAnswer}
            </p>
          )}
          <div className="muted small">{t.kbAnswerer(result.answerer)}</div>
          {result.passages.map((p) => (
            <blockquote key={p.source} className="kb-passage" data-testid="kb-try-passage">
              <div className="small">
                <strong>{p.document}</strong> — {p.title}
              </div>
              <div className="small">{p.text}</div>
            </blockquote>
          ))}
        </div>
      )}
    </section>
  );
}

export function KnowledgePage() {
  const { t, lang } = useI18n();
  const role = loadSession()?.role;
  const canEdit = role === "admin";
  const canTry = role === "admin" || role === "analyst";
  const [language, setLanguage] = useState<ShopLanguage>("ru");
  const list = useLoad(() => get<KnowledgeSummary[]>("/api/knowledge", { language }), [language]);
  const [selected, setSelected] = useState<string | null>(null);
  const [doc, setDoc] = useState<KnowledgeDocument | null>(null);
  const [draft, setDraft] = useState("");
  const [newName, setNewName] = useState("");
  const [history, setHistory] = useState<KnowledgeHistoryEntry[]>([]);
  const [viewing, setViewing] = useState<KnowledgeVersion | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [conflict, setConflict] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [busy, setBusy] = useState(false);

  const base = (name: string) => `/api/knowledge/${language}/${encodeURIComponent(name)}`;

  const open = async (name: string) => {
    setOutcome(null);
    setConflict(false);
    setConfirmDelete(false);
    setViewing(null);
    setSelected(name);
    if (name === NEW) {
      setDoc(null);
      setDraft("# \n\n## \n\n");
      setNewName("");
      setHistory([]);
      return;
    }
    try {
      const [loaded, versions] = await Promise.all([
        get<KnowledgeDocument>(base(name)),
        get<KnowledgeHistoryEntry[]>(`${base(name)}/history`),
      ]);
      setDoc(loaded);
      setDraft(loaded.content);
      setHistory(versions);
    } catch (err) {
      setOutcome({ ok: false, text: problem(err, t).text });
    }
  };

  useEffect(() => {
    setSelected(null);
    setDoc(null);
    setOutcome(null);
  }, [language]);

  const after = async (saved: KnowledgeDocument, text: string) => {
    list.reload();
    await open(saved.name);
    setOutcome({ ok: true, text });
  };

  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setOutcome(null);
    setConflict(false);
    try {
      await work();
    } catch (err) {
      const p = problem(err, t);
      setConflict(p.conflict);
      setOutcome({ ok: false, text: p.text });
    } finally {
      setBusy(false);
    }
  };

  const save = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      if (selected === NEW) {
        const saved = await post<KnowledgeDocument>(`/api/knowledge/${language}`, { name: newName, content: draft });
        await after(saved, t.kbSaved(saved.version));
      } else if (doc) {
        const saved = await put<KnowledgeDocument>(base(doc.name), { version: doc.version, content: draft });
        await after(saved, t.kbSaved(saved.version));
      }
    });
  };

  const remove = () =>
    void run(async () => {
      if (!doc) return;
      await del(`${base(doc.name)}?version=${doc.version}`);
      setSelected(null);
      setDoc(null);
      list.reload();
      setOutcome({ ok: true, text: t.kbDeleted(doc.title) });
    });

  const restore = (version: number) =>
    void run(async () => {
      if (!doc) return;
      const saved = await post<KnowledgeDocument>(`${base(doc.name)}/restore`, { version: doc.version, restore: version });
      await after(saved, t.kbRestored(version, saved.version));
    });

  const view = (version: number) =>
    void run(async () => {
      if (!doc) return;
      setViewing(await get<KnowledgeVersion>(`${base(doc.name)}/versions/${version}`));
    });

  const upload = (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    event.target.value = "";
    if (!file) return;
    void run(async () => {
      if (file.size > MAX_BYTES) throw new Error(t.kbTooBig);
      const saved = await postFile<KnowledgeDocument>(`/api/knowledge/${language}/upload`, { filename: file.name }, file);
      await after(saved, t.kbUploaded(saved.title));
    });
  };

  const bytes = new TextEncoder().encode(draft).length;
  const nameOk = selected !== NEW || NAME_PATTERN.test(newName);
  const shown = viewing ? viewing.content : draft;

  return (
    <div className="page">
      <div className="page-head">
        <h1>{t.knowledge}</h1>
        <div className="tabs" role="tablist" aria-label={t.languages}>
          {LANGUAGES.map((code) => (
            <button
              key={code}
              type="button"
              role="tab"
              aria-selected={code === language}
              className={`tab ${code === language ? "active" : ""}`}
              data-testid={`kb-lang-${code}`}
              onClick={() => setLanguage(code)}
            >
              {t.languageName[code]}
            </button>
          ))}
        </div>
      </div>
      <p className="muted small">{t.kbHint}</p>
      {!canEdit && (
        <div className="notice small" role="status" data-testid="kb-read-only">
          {t.kbReadOnly}
        </div>
      )}
      {list.error && <div className="error">{`${t.error}: ${list.error}`}</div>}
      <div className="kb-layout">
        <section className="card kb-list">
          {canEdit && (
            <div className="row wrap">
              <button type="button" onClick={() => void open(NEW)} data-testid="kb-new">
                {t.kbNew}
              </button>
              <label className="kb-upload">
                <span className="button-like">{t.kbUpload}</span>
                <input type="file" accept=".md,.txt,text/markdown,text/plain" onChange={upload} data-testid="kb-upload" />
              </label>
            </div>
          )}
          <table className="table compact" data-testid="kb-list">
            <tbody>
              {(list.data ?? []).map((d) => (
                <tr
                  key={d.name}
                  className={`clickable ${d.name === selected ? "selected" : ""}`}
                  data-name={d.name}
                  onClick={() => void open(d.name)}
                >
                  <td>
                    <div>{d.title}</div>
                    <div className="muted small mono">{d.name}.md</div>
                  </td>
                  <td className="muted small">v{d.version}</td>
                </tr>
              ))}
              {list.data && list.data.length === 0 && (
                <tr>
                  <td className="muted">{t.kbEmpty}</td>
                </tr>
              )}
            </tbody>
          </table>
        </section>
        {selected && (
          <form className="card kb-editor" onSubmit={save} data-testid="kb-editor" data-version={doc?.version ?? 0}>
            {selected === NEW ? (
              <label>
                {t.kbName}
                <input
                  name="name"
                  value={newName}
                  aria-invalid={!nameOk}
                  onChange={(e) => setNewName(e.target.value)}
                  placeholder="gift_wrapping"
                />
                <span className="muted small">{t.kbNameHint}</span>
              </label>
            ) : (
              doc && (
                <div className="muted small" data-testid="kb-meta">
                  {doc.name}.md · v{doc.version} · {t.shopUpdated(doc.updated_by, dateTime(doc.updated_at, lang))}
                </div>
              )
            )}
            <div className="kb-panes">
              <label>
                {t.kbMarkdown}
                <textarea
                  name="content"
                  rows={22}
                  value={draft}
                  readOnly={!canEdit}
                  onChange={(e) => setDraft(e.target.value)}
                />
                <span className="muted small">{t.chars(bytes, MAX_BYTES)}</span>
              </label>
              <div>
                <div className="muted small">
                  {viewing ? t.kbViewing(viewing.version) : t.kbPreview}
                  {viewing && (
                    <button type="button" className="inline" onClick={() => setViewing(null)}>
                      {t.kbBackToDraft}
                    </button>
                  )}
                </div>
                <Markdown source={shown} testId="kb-preview" />
              </div>
            </div>
            {conflict && (
              <div className="error" role="alert" data-testid="kb-conflict">
                <div>{t.kbConflict}</div>
                <button type="button" onClick={() => doc && void open(doc.name)}>
                  {t.kbReload}
                </button>
              </div>
            )}
            <OutcomeLine outcome={conflict ? null : outcome} testId="kb-outcome" />
            {canEdit && (
              <div className="row wrap">
                <button type="submit" className="primary" disabled={busy || !nameOk || bytes > MAX_BYTES}>
                  {t.kbSave}
                </button>
                {doc && !confirmDelete && (
                  <button type="button" onClick={() => setConfirmDelete(true)} data-testid="kb-delete">
                    {t.kbDelete}
                  </button>
                )}
                {doc && confirmDelete && (
                  <button type="button" className="danger" onClick={remove} data-testid="kb-delete-confirm">
                    {t.kbDeleteConfirm(doc.title)}
                  </button>
                )}
              </div>
            )}
            {history.length > 0 && (
              <div data-testid="kb-history">
                <h2>{t.kbHistory}</h2>
                <table className="table compact">
                  <tbody>
                    {history.map((h) => (
                      <tr key={h.version} data-version={h.version}>
                        <td>v{h.version}</td>
                        <td>{t.kbAction[h.action] ?? h.action}</td>
                        <td className="muted small">
                          {h.actor}, {dateTime(h.at, lang)}
                        </td>
                        <td className="row">
                          <button type="button" onClick={() => view(h.version)}>
                            {t.kbShow}
                          </button>
                          {canEdit && doc && h.version !== doc.version && (
                            <button type="button" onClick={() => restore(h.version)} data-testid={`kb-restore-${h.version}`}>
                              {t.kbRestore}
                            </button>
                          )}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </form>
        )}
        {!selected && outcome && <OutcomeLine outcome={outcome} testId="kb-outcome" />}
      </div>
      {canTry && <TryBox language={language} />}
    </div>
  );
}
