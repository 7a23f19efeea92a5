import { useState, type FormEvent, type ReactNode } from "react";
import { login, type Session } from "../api";
import { useI18n } from "../i18n";

export function LoginPage({ onLogin, langToggle }: { onLogin: (s: Session) => void; langToggle: ReactNode }) {
  const { t } = useI18n();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onLogin(await login(username, password));
    } catch (err) {
      const status = (err as { status?: number }).status;
      setError(status === 401 || status === 400 ? t.loginFailed : `${t.error}: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login-page">
      <form className="card login-card" onSubmit={submit}>
        <div className="row spread">
          <h1>{t.appName}</h1>
          {langToggle}
        </div>
        <h2>{t.login}</h2>
        <label>
          {t.username}
          <input name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} required />
        </label>
        <label>
          {t.password}
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </label>
        {error && (
          <div className="error" role="alert">
            {error}
          </div>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {t.signIn}
        </button>
      </form>
    </main>
  );
}
