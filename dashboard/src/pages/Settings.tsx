import { get, type Configured, type Settings } from "../api";
import { useLoad } from "../hooks";
import { useI18n } from "../i18n";

function Badge({ ok, yes, no }: { ok: boolean; yes: string; no: string }) {
  return <span className={ok ? "badge ok" : "badge off"}>{ok ? yes : no}</span>;
}

function Group({ title, items }: { title: string; items: Configured[] }) {
  const { t } = useI18n();
  return (
    <section className="card">
      <h2>{title}</h2>
      <table className="table compact">
        <tbody>
          {items.map((item) => (
            <tr key={item.name} data-setting={item.name}>
              <td className="mono">{item.name}</td>
              <td>
                <Badge ok={item.configured} yes={t.configured} no={t.notConfigured} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function SettingsPage() {
  const { t } = useI18n();
  const { data, error } = useLoad(() => get<Settings>("/api/settings"), []);
  return (
    <div className="page">
      <div className="page-head">
        <h1>{t.settings}</h1>
      </div>
      {error && <div className="error">{error}</div>}
      {!data && !error && <div className="muted">{t.loading}</div>}
      {data && (
        <div className="settings-grid">
          <Group title={t.channels} items={data.channels} />
          <Group title={t.integrations} items={data.integrations} />
          <Group title={t.payments} items={data.payments} />
          <section className="card">
            <h2>{t.llm}</h2>
            <div className="row">
              <span className="mono">{data.llm.answerer}</span>
              <Badge ok={data.llm.configured} yes={t.configured} no={t.notConfigured} />
            </div>
          </section>
          <section className="card wide">
            <h2>{t.secrets}</h2>
            <table className="table compact" data-testid="secrets">
              <tbody>
                {Object.entries(data.secrets).map(([name, state]) => (
                  <tr key={name} data-secret={name}>
                    <td className="mono">{name}</td>
                    <td>
                      <Badge ok={state === "present"} yes={t.present} no={t.absent} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        </div>
      )}
    </div>
  );
}
