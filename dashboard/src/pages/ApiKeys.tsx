import { useRef, useState, type FormEvent } from "react";
import { del, get, post, type ApiKey, type ApiKeyCreated, type Role } from "../api";
import { AdminPage, OutcomeLine, ROLES, roleName, type Outcome } from "../components/People";
import { explain, isForbidden } from "../errors";
import { dateTime } from "../format";
import { useLoad } from "../hooks";
import { useI18n } from "../i18n";

/** The secret as the api returned it once; it lives only in this component's
 * state and is gone when the admin dismisses it or leaves the page. */
function Secret({ created, onDone }: { created: ApiKeyCreated; onDone: () => void }) {
  const { t } = useI18n();
  const [copy, setCopy] = useState<Outcome | null>(null);
  const field = useRef<HTMLInputElement>(null);
  const copyKey = async () => {
    try {
      await navigator.clipboard.writeText(created.key);
      setCopy({ ok: true, text: t.copied });
    } catch {
      field.current?.select();
      setCopy({ ok: false, text: t.copyFailed });
    }
  };
  return (
    <section className="card secret" data-testid="new-key" aria-labelledby="new-key-title">
      <h2 id="new-key-title">
        {t.newKey}: {created.name} · {roleName(created.role, t)}
      </h2>
      <p className="warning" role="status">
        {t.secretOnce}
      </p>
      <div className="row">
        <input
          ref={field}
          className="mono grow"
          readOnly
          aria-label={t.secretLabel}
          data-testid="new-key-secret"
          value={created.key}
          onFocus={(e) => e.target.select()}
        />
        <button type="button" className="primary" onClick={() => void copyKey()}>
          {t.copy}
        </button>
      </div>
      <OutcomeLine outcome={copy} />
      <div>
        <button type="button" onClick={onDone}>
          {t.done}
        </button>
      </div>
    </section>
  );
}

function CreateKey({ onCreated }: { onCreated: (created: ApiKeyCreated) => void }) {
  const { t } = useI18n();
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("analyst");
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setOutcome(null);
    try {
      onCreated(await post<ApiKeyCreated>("/api/api-keys", { name: name.trim(), role }));
      setName("");
    } catch (err) {
      setOutcome({ ok: false, text: explain(err, t) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card" onSubmit={submit} data-testid="create-key" aria-label={t.newKey}>
      <h2>{t.newKey}</h2>
      <div className="filters">
        <label>
          {t.keyName}
          <input name="name" maxLength={128} value={name} onChange={(e) => setName(e.target.value)} required />
        </label>
        <label>
          {t.scope}
          <select name="role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {roleName(r, t)} — {t.scopeHint[r]}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="primary" disabled={busy || !name.trim()}>
          {t.createKey}
        </button>
      </div>
      <OutcomeLine outcome={outcome} />
    </form>
  );
}

function KeyRow({ apiKey, onChanged }: { apiKey: ApiKey; onChanged: () => void }) {
  const { t, lang } = useI18n();
  const [confirming, setConfirming] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const revoke = async () => {
    setOutcome(null);
    try {
      await del(`/api/api-keys/${apiKey.id}`);
      setOutcome({ ok: true, text: t.keyRevokedOk(apiKey.name) });
    } catch (err) {
      setOutcome({ ok: false, text: explain(err, t) });
    }
    setConfirming(false);
    onChanged();
  };
  return (
    <tr data-key={apiKey.id} data-key-name={apiKey.name} data-revoked={apiKey.revoked}>
      <td>{apiKey.name}</td>
      <td>{roleName(apiKey.role, t)}</td>
      <td className="mono">{apiKey.prefix}…</td>
      <td>{apiKey.created_by}</td>
      <td className="nowrap">{dateTime(apiKey.created_at, lang)}</td>
      <td className="nowrap" data-testid="key-last-used">
        {apiKey.last_used_at ? dateTime(apiKey.last_used_at, lang) : t.never}
      </td>
      <td>
        <span className={apiKey.revoked ? "badge off" : "badge ok"} data-testid="key-status">
          {apiKey.revoked ? t.keyRevoked : t.keyActive}
        </span>
      </td>
      <td>
        {!apiKey.revoked && !confirming && (
          <button type="button" className="danger" onClick={() => setConfirming(true)}>
            {t.revoke}
          </button>
        )}
        {confirming && (
          <div role="group" aria-label={t.revoke} className="confirm">
            <div className="small">{t.confirmRevoke(apiKey.name)}</div>
            <div className="row">
              <button type="button" className="danger solid" onClick={() => void revoke()}>
                {t.revoke}
              </button>
              <button type="button" onClick={() => setConfirming(false)}>
                {t.cancel}
              </button>
            </div>
          </div>
        )}
        <OutcomeLine outcome={outcome} testId="key-outcome" />
      </td>
    </tr>
  );
}

export function ApiKeysPage() {
  const { t } = useI18n();
  const keys = useLoad(() => get<ApiKey[]>("/api/api-keys"), []);
  const [created, setCreated] = useState<ApiKeyCreated | null>(null);
  return (
    <AdminPage title={t.apiKeys} forbidden={isForbidden(keys.cause)}>
      {created ? (
        <Secret created={created} onDone={() => setCreated(null)} />
      ) : (
        <CreateKey
          onCreated={(c) => {
            setCreated(c);
            keys.reload();
          }}
        />
      )}
      {keys.error && <div className="error">{explain(keys.cause, t)}</div>}
      {!keys.data && !keys.error && <div className="muted">{t.loading}</div>}
      {keys.data && keys.data.length === 0 && <div className="empty">{t.emptyKeys}</div>}
      {keys.data && keys.data.length > 0 && (
        <table className="table" data-testid="keys-table">
          <thead>
            <tr>
              <th>{t.keyName}</th>
              <th>{t.scope}</th>
              <th>{t.keyPrefix}</th>
              <th>{t.createdBy}</th>
              <th>{t.created}</th>
              <th>{t.lastUsed}</th>
              <th>{t.status}</th>
              <th>{t.actions}</th>
            </tr>
          </thead>
          <tbody>
            {keys.data.map((k) => (
              <KeyRow key={k.id} apiKey={k} onChanged={keys.reload} />
            ))}
          </tbody>
        </table>
      )}
    </AdminPage>
  );
}
