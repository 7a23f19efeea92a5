// Integrations: one card per marketplace and payment service, with exactly the
// fields it needs and a link to where the merchant finds them. Every role sees
// the cards (secrets only masked); admins save, check, enable and disable. A
// saved form becomes active only when its check through the action server
// passes (the api keeps the previous one otherwise).
import { useEffect, useState, type FormEvent } from "react";
import { ApiError, get, loadSession, post, put, type Integration } from "../api";
import { OutcomeLine, type Outcome } from "../components/People";
import { dateTime } from "../format";
import { useLoad } from "../hooks";
import { useI18n, type Dict } from "../i18n";

interface FieldProblem {
  field: string;
  text: string;
}

function problemOf(err: unknown, t: Dict): { outcome: Outcome; field?: FieldProblem } {
  if (err instanceof ApiError && err.status === 422 && Array.isArray(err.detail)) {
    const first = err.detail[0] as { loc?: unknown[]; msg?: string };
    const field = Array.isArray(first?.loc) ? String(first.loc[first.loc.length - 1]) : "";
    const text = `${field}: ${first?.msg ?? ""}`;
    return { outcome: { ok: false, text }, field: { field, text } };
  }
  if (err instanceof ApiError && err.status === 502) {
    return { outcome: { ok: false, text: t.integrationActionServer(String(err.detail ?? err.message)) } };
  }
  if (err instanceof ApiError && err.status === 409) return { outcome: { ok: false, text: t.integrationNotChecked } };
  if (err instanceof ApiError && err.status === 403) return { outcome: { ok: false, text: t.integrationReadOnly } };
  return { outcome: { ok: false, text: `${t.error}: ${err instanceof Error ? err.message : String(err)}` } };
}

function checkOutcome(card: Integration, t: Dict): Outcome | null {
  const check = card.check;
  if (!check) return null;
  const message = check.message ?? "";
  // What the platform named (the bot, the community, the number), or what was
  // not checked (Alice has no API): said after the success line.
  if (check.status === "ok") {
    return { ok: true, text: message ? `${t.integrationCheckOk} ${message}` : t.integrationCheckOk };
  }
  return {
    ok: false,
    text: check.status === "unreachable" ? t.integrationCheckUnreachable(message) : t.integrationCheckError(message),
  };
}

function stateOf(card: Integration, t: Dict): { text: string; className: string } {
  if (!card.saved) return { text: t.integrationNotSet, className: "off" };
  if (card.enabled) return { text: t.integrationOn, className: "ok" };
  if (card.pending) return { text: t.integrationPending, className: "off" };
  return { text: t.integrationOff, className: "off" };
}

function IntegrationCard({ initial, canEdit }: { initial: Integration; canEdit: boolean }) {
  const { t, lang } = useI18n();
  const [card, setCard] = useState(initial);
  const [values, setValues] = useState<Record<string, string>>({});
  const [outcome, setOutcome] = useState<Outcome | null>(checkOutcome(initial, t));
  const [invalid, setInvalid] = useState<FieldProblem | null>(null);
  const [busy, setBusy] = useState(false);
  const path = `/api/integrations/${card.kind}`;

  useEffect(() => {
    // Non-secret values as saved; secret inputs start empty (empty keeps them).
    const start: Record<string, string> = {};
    for (const f of initial.fields) start[f.name] = f.secret ? "" : (initial.values[f.name] ?? "");
    setValues(start);
  }, [initial]);

  const run = async (action: () => Promise<Integration>, done: (c: Integration) => Outcome | null) => {
    setBusy(true);
    setOutcome(null);
    setInvalid(null);
    try {
      const next = await action();
      setCard(next);
      setOutcome(done(next));
      const kept: Record<string, string> = {};
      for (const f of next.fields) kept[f.name] = f.secret ? "" : (next.values[f.name] ?? "");
      setValues(kept);
    } catch (err) {
      const problem = problemOf(err, t);
      setOutcome(problem.outcome);
      setInvalid(problem.field ?? null);
    } finally {
      setBusy(false);
    }
  };

  const save = (event: FormEvent) => {
    event.preventDefault();
    void run(
      () => put<Integration>(path, { values }),
      (next) => ({ ok: true, text: t.integrationSaved(next.version) }),
    );
  };
  const check = () => void run(() => post<Integration>(`${path}/check`), (next) => checkOutcome(next, t));
  const toggle = () =>
    void run(
      () => post<Integration>(`${path}/${card.enabled ? "disable" : "enable"}`),
      () => null,
    );
  const state = stateOf(card, t);

  return (
    <section className="card integration" data-testid={`integration-${card.kind}`} data-enabled={card.enabled}>
      <div className="row spread">
        <h2>{card.title}</h2>
        <span className={`badge ${state.className}`} data-testid="integration-state">
          {state.text}
        </span>
      </div>
      <a href={card.help_url} target="_blank" rel="noreferrer noopener" className="small">
        {t.integrationWhere}
      </a>
      {card.note && <p className="small muted">{card.note}</p>}
      <form onSubmit={save} noValidate aria-label={card.title}>
        <fieldset disabled={!canEdit || busy}>
          {card.fields.map((f) => {
            const stored = card.values[f.name];
            return (
              <label key={f.name}>
                {f.label}
                {f.required && <span className="muted small"> ({t.integrationRequired})</span>}
                {f.choices.length > 0 ? (
                  <select
                    name={f.name}
                    value={values[f.name] ?? ""}
                    aria-invalid={invalid?.field === f.name}
                    onChange={(e) => setValues({ ...values, [f.name]: e.target.value })}
                  >
                    <option value="">{f.placeholder}</option>
                    {f.choices.map((c) => (
                      <option key={c} value={c}>
                        {c}
                      </option>
                    ))}
                  </select>
                ) : (
                  <input
                    name={f.name}
                    type={f.secret ? "password" : f.url ? "url" : "text"}
                    autoComplete="off"
                    value={values[f.name] ?? ""}
                    placeholder={f.secret && stored ? stored : f.generated ? t.integrationGenerated : f.placeholder}
                    aria-invalid={invalid?.field === f.name}
                    onChange={(e) => setValues({ ...values, [f.name]: e.target.value })}
                  />
                )}
                {f.secret && stored && <span className="muted small">{t.integrationSecretKept(stored)}</span>}
              </label>
            );
          })}
        </fieldset>
        {card.updated_at && (
          <div className="muted small">{t.shopUpdated(card.updated_by ?? "—", dateTime(card.updated_at, lang))}</div>
        )}
        <OutcomeLine outcome={outcome} testId="integration-outcome" />
        {canEdit && (
          <div className="row wrap">
            <button type="submit" disabled={busy}>
              {t.integrationSave}
            </button>
            <button type="button" className="primary" disabled={busy || !card.saved} onClick={check}>
              {t.integrationCheck}
            </button>
            <button type="button" disabled={busy || card.active_version === null} onClick={toggle}>
              {card.enabled ? t.integrationDisable : t.integrationEnable}
            </button>
          </div>
        )}
      </form>
    </section>
  );
}

export function IntegrationsPage() {
  const { t } = useI18n();
  const loaded = useLoad(() => get<Integration[]>("/api/integrations"), []);
  const canEdit = loadSession()?.role === "admin";
  const groups: { title: string; category: Integration["category"] }[] = [
    { title: t.integrationsOrders, category: "orders" },
    { title: t.integrationsPayments, category: "payments" },
    { title: t.integrationsChannels, category: "channels" },
  ];
  return (
    <div className="page">
      <div className="page-head">
        <h1>{t.integrations}</h1>
      </div>
      <p className="muted">{t.integrationsIntro}</p>
      {!canEdit && (
        <div className="notice small" role="status">
          {t.integrationReadOnly}
        </div>
      )}
      {loaded.error && <div className="error">{`${t.error}: ${loaded.error}`}</div>}
      {!loaded.data && !loaded.error && <div className="muted">{t.loading}</div>}
      {loaded.data &&
        groups.map((group) => [group, loaded.data ?? []] as const).map(([group, cards]) => (
          <section key={group.category} aria-label={group.title}>
            <h2>{group.title}</h2>
            <div className="integrations">
              {cards
                .filter((card) => card.category === group.category)
                .map((card) => (
                  <IntegrationCard key={card.kind} initial={card} canEdit={canEdit} />
                ))}
            </div>
          </section>
        ))}
    </div>
  );
}
