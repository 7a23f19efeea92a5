import { useState, type FormEvent } from "react";
import { get, loadSession, patch, post, type Role, type User } from "../api";
import { AdminPage, OutcomeLine, RoleOptions, type Outcome } from "../components/People";
import { explain, isForbidden } from "../errors";
import { dateTime } from "../format";
import { useLoad } from "../hooks";
import { useI18n } from "../i18n";

function CreateUser({ onCreated }: { onCreated: () => void }) {
  const { t } = useI18n();
  const [username, setUsername] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [role, setRole] = useState<Role>("operator");
  const [password, setPassword] = useState("");
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setOutcome(null);
    try {
      const user = await post<User>("/api/users", {
        username,
        password,
        role,
        display_name: displayName.trim() || null,
      });
      setOutcome({ ok: true, text: t.userCreated(user.username) });
      setUsername("");
      setDisplayName("");
      setPassword("");
      onCreated();
    } catch (err) {
      setOutcome({ ok: false, text: explain(err, t) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card" onSubmit={submit} data-testid="create-user" aria-label={t.newUser}>
      <h2>{t.newUser}</h2>
      <div className="filters">
        <label>
          {t.username}
          <input name="username" autoComplete="off" value={username} onChange={(e) => setUsername(e.target.value)} required />
        </label>
        <label>
          {t.displayName}
          <input name="display_name" value={displayName} onChange={(e) => setDisplayName(e.target.value)} />
        </label>
        <label>
          {t.role}
          <select name="role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            <RoleOptions />
          </select>
        </label>
        <label>
          {t.initialPassword}
          <input
            name="password"
            type="password"
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </label>
        <button type="submit" className="primary" disabled={busy}>
          {t.createUser}
        </button>
      </div>
      <OutcomeLine outcome={outcome} testId="create-user-outcome" />
    </form>
  );
}

function UserRow({ user, isSelf, onChanged }: { user: User; isSelf: boolean; onChanged: () => void }) {
  const { t, lang } = useI18n();
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [resetting, setResetting] = useState(false);
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);

  const change = async (body: Record<string, unknown>, done?: string): Promise<boolean> => {
    setBusy(true);
    setOutcome(null);
    try {
      await patch<User>(`/api/users/${encodeURIComponent(user.username)}`, body);
      if (done) setOutcome({ ok: true, text: done });
      onChanged();
      return true;
    } catch (err) {
      setOutcome({ ok: false, text: explain(err, t) });
      onChanged(); // show what the api holds now, not what was asked for
      return false;
    } finally {
      setBusy(false);
    }
  };

  const reset = async (event: FormEvent) => {
    event.preventDefault();
    if (await change({ password }, t.passwordReset(user.username))) {
      setResetting(false);
      setPassword("");
    }
  };

  return (
    <tr data-user={user.username} data-active={user.is_active} data-role={user.role}>
      <td>
        <span className="mono">{user.username}</span>
        {isSelf && <span className="muted small"> ({t.you})</span>}
        {user.display_name && <div className="muted small">{user.display_name}</div>}
      </td>
      <td>
        <select
          name="role"
          aria-label={t.roleOf(user.username)}
          value={user.role}
          disabled={busy}
          onChange={(e) => void change({ role: e.target.value })}
        >
          <RoleOptions />
        </select>
      </td>
      <td>
        <span className={user.is_active ? "badge ok" : "badge off"} data-testid="user-status">
          {user.is_active ? t.userActive : t.userDisabled}
        </span>
      </td>
      <td className="nowrap">{dateTime(user.created_at, lang)}</td>
      <td>
        <div className="row wrap">
          <button type="button" disabled={busy} onClick={() => void change({ is_active: !user.is_active })}>
            {user.is_active ? t.disable : t.enable}
          </button>
          {!resetting && (
            <button type="button" disabled={busy} onClick={() => setResetting(true)}>
              {t.resetPassword}
            </button>
          )}
        </div>
        {resetting && (
          <form className="row wrap reset-form" onSubmit={reset}>
            <input
              name="new_password"
              type="password"
              autoComplete="new-password"
              aria-label={t.newPasswordFor(user.username)}
              placeholder={t.newPassword}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              required
            />
            <button type="submit" className="primary" disabled={busy}>
              {t.save}
            </button>
            <button
              type="button"
              onClick={() => {
                setResetting(false);
                setPassword("");
              }}
            >
              {t.cancel}
            </button>
          </form>
        )}
        <OutcomeLine outcome={outcome} testId="user-outcome" />
      </td>
    </tr>
  );
}

export function UsersPage() {
  const { t } = useI18n();
  const users = useLoad(() => get<User[]>("/api/users"), []);
  const me = loadSession()?.username;
  return (
    <AdminPage title={t.users} forbidden={isForbidden(users.cause)}>
      <CreateUser onCreated={users.reload} />
      {users.error && <div className="error">{explain(users.cause, t)}</div>}
      {!users.data && !users.error && <div className="muted">{t.loading}</div>}
      {users.data && (
        <table className="table" data-testid="users-table">
          <thead>
            <tr>
              <th>{t.username}</th>
              <th>{t.role}</th>
              <th>{t.status}</th>
              <th>{t.created}</th>
              <th>{t.actions}</th>
            </tr>
          </thead>
          <tbody>
            {users.data.map((user) => (
              <UserRow key={user.username} user={user} isSelf={user.username === me} onChanged={users.reload} />
            ))}
          </tbody>
        </table>
      )}
    </AdminPage>
  );
}
