import { useEffect, useState } from "react";
import { loadSession, logout, saveSession, setUnauthorizedHandler, type Role, type Session } from "./api";
import { useI18n, type Dict } from "./i18n";
import { navigate, readRoute, useRoute } from "./router";
import { LoginPage } from "./pages/Login";
import { OverviewPage } from "./pages/Overview";
import { ConversationsPage } from "./pages/Conversations";
import { ConversationPage } from "./pages/Conversation";
import { InboxPage } from "./pages/Inbox";
import { OperatorPage } from "./pages/Operator";
import { SettingsPage } from "./pages/Settings";
import { UsersPage } from "./pages/Users";
import { ApiKeysPage } from "./pages/ApiKeys";
import { AuditPage } from "./pages/Audit";
import { ShopPage } from "./pages/Shop";
import { KnowledgePage } from "./pages/Knowledge";
import { IntegrationsPage } from "./pages/Integrations";

type Section =
  | "overview"
  | "conversations"
  | "inbox"
  | "operator"
  | "shop"
  | "knowledge"
  | "integrations"
  | "settings"
  | "users"
  | "api-keys"
  | "audit";

// Pages opened by their address even without a nav entry: they ask the api,
// and its 403 is shown, instead of jumping silently to another page.
const SHOW_FORBIDDEN: Section[] = ["users", "api-keys", "audit"];

const SECTIONS: { id: Section; label: keyof Dict; roles: Role[] }[] = [
  { id: "overview", label: "overview", roles: ["admin", "analyst"] },
  { id: "conversations", label: "conversations", roles: ["admin", "analyst", "operator"] },
  { id: "inbox", label: "inbox", roles: ["admin", "analyst"] },
  { id: "operator", label: "operator", roles: ["admin", "operator"] },
  { id: "shop", label: "shop", roles: ["admin", "analyst", "operator"] },
  { id: "knowledge", label: "knowledge", roles: ["admin", "analyst", "operator"] },
  { id: "integrations", label: "integrations", roles: ["admin", "analyst", "operator"] },
  { id: "settings", label: "settings", roles: ["admin"] },
  { id: "users", label: "users", roles: ["admin"] },
  { id: "api-keys", label: "apiKeys", roles: ["admin"] },
  { id: "audit", label: "audit", roles: ["admin"] },
];

export function App() {
  const { t, lang, setLang } = useI18n();
  const [session, setSession] = useState<Session | null>(loadSession);
  const route = useRoute();

  useEffect(() => {
    setUnauthorizedHandler(() => {
      saveSession(null);
      setSession(null);
    });
  }, []);

  const langToggle = (
    <button
      type="button"
      className="lang-toggle"
      data-testid="lang-toggle"
      onClick={() => setLang(lang === "ru" ? "en" : "ru")}
    >
      {lang === "ru" ? "EN" : "RU"}
    </button>
  );

  const allowed = session ? SECTIONS.filter((s) => s.roles.includes(session.role)) : [];
  const typed = SHOW_FORBIDDEN.find((id) => id === route[0]);
  const current = (allowed.find((s) => s.id === route[0])?.id ?? (session ? typed : undefined) ?? allowed[0]?.id) as
    | Section
    | undefined;
  useEffect(() => {
    // A newer address (a link followed meanwhile) wins over this stale route.
    if (readRoute()[0] !== route[0]) return;
    if (current && route[0] !== current) navigate(`/${current}`);
  }, [current, route]);

  if (!session) {
    return <LoginPage onLogin={setSession} langToggle={langToggle} />;
  }

  let page = null;
  if (current === "overview") page = <OverviewPage />;
  else if (current === "conversations")
    page = route[1] ? <ConversationPage id={route[1]} canEdit={session.role !== "operator"} /> : <ConversationsPage />;
  else if (current === "inbox") page = <InboxPage />;
  else if (current === "operator") page = <OperatorPage />;
  else if (current === "shop") page = <ShopPage />;
  else if (current === "knowledge") page = <KnowledgePage />;
  else if (current === "integrations") page = <IntegrationsPage />;
  else if (current === "settings") page = <SettingsPage />;
  else if (current === "users") page = <UsersPage />;
  else if (current === "api-keys") page = <ApiKeysPage />;
  else if (current === "audit") page = <AuditPage />;

  return (
    <div className="layout">
      <aside className="sidebar">
        <div className="brand">{t.appName}</div>
        <nav>
          {allowed.map((s) => (
            <a key={s.id} href={`#/${s.id}`} className={s.id === current ? "active" : ""} data-nav={s.id}>
              {t[s.label] as string}
            </a>
          ))}
        </nav>
        <div className="sidebar-foot">
          <div className="who" data-testid="whoami">
            {session.username} · {session.role}
          </div>
          <div className="row">
            {langToggle}
            <button
              type="button"
              className="link"
              onClick={() => {
                void logout();
                setSession(null);
              }}
            >
              {t.signOut}
            </button>
          </div>
        </div>
      </aside>
      <main className="content">{page}</main>
    </div>
  );
}
