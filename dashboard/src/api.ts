// Typed client of the api service (contract: "api HTTP routes").

export type Role = "admin" | "analyst" | "operator";

export interface Session {
  token: string;
  username: string;
  role: Role;
}

export interface Overview {
  conversations: number;
  messages: number;
  containment_rate: number | null;
  fallback_rate: number | null;
  handoff_rate: number | null;
  avg_turns: number | null;
  avg_first_reply_ms: number | null;
  csat_avg: number | null;
  csat_count: number;
  payment_links: number;
  payments_paid: number;
  payment_conversion: number | null;
  order_updates_sent: number;
  order_updates_opt_ins: number;
  order_updates_opt_outs: number;
  status_question_rate_before_updates: number | null;
  status_question_rate_after_updates: number | null;
  status_questions_prevented: number | null;
}

export interface FailedNotice {
  id: number;
  sender_id: string;
  order_id: string;
  kind: string;
  order_state: string | null;
  attempts: number;
  last_error: string | null;
  created_at: string | null;
}

export interface DailyRow {
  day: string;
  channel: string;
  conversations: number;
}

export interface IntentRow {
  intent: string;
  count: number;
  avg_confidence: number | null;
}

export interface ConversationSummary {
  id: number | string;
  sender_id: string;
  channel: string | null;
  language: string | null;
  started_at: string | number;
  last_event_at: string | number;
  turns: number;
  fallbacks: number;
  handoff: boolean;
  csat: number | null;
  reviewed: boolean;
  tags: string[];
}

export interface TranscriptEvent {
  timestamp: string | number;
  actor: "user" | "bot" | "operator" | "action";
  text: string | null;
  intent: string | null;
  confidence: number | null;
  action: string | null;
}

export interface ShopperAttachment {
  id: string;
  kind: string;
  channel: string;
  mime_type: string;
  size: number;
  order_id: string | null;
  return_id: string | null;
  created_at: string | null;
}

export interface ConversationDetail extends ConversationSummary {
  events: TranscriptEvent[];
}

export interface InboxItem {
  id: number | string;
  text: string;
  predicted_intent: string | null;
  confidence: number | null;
  conversation_id: number | string | null;
  language: string | null;
  label: string | null;
  status: "open" | "labelled" | "dismissed";
  occurrences?: number;
  created_at: string | number;
}

export interface Handoff {
  id: number | string;
  conversation_id: number | string | null;
  sender_id: string;
  channel: string | null;
  language: string | null;
  status: "waiting" | "active" | "closed";
  operator: string | null;
  requested_at: string | number | null;
  taken_at: string | number | null;
  closed_at: string | number | null;
  last_message: string | null;
}

export interface HandoffMessage {
  timestamp: string | number;
  actor: "user" | "bot" | "operator";
  text: string;
}

export interface HandoffDetail extends Handoff {
  messages: HandoffMessage[];
}

export interface Configured {
  name: string;
  configured: boolean;
}

export interface Settings {
  channels: Configured[];
  integrations: Configured[];
  payments: Configured[];
  llm: { answerer: string; configured: boolean };
  secrets: Record<string, "present" | "absent">;
}

export interface User {
  username: string;
  role: Role;
  display_name: string | null;
  is_active: boolean;
  created_at: string;
}

export interface ApiKey {
  id: number;
  name: string;
  role: Role;
  prefix: string;
  created_by: string;
  created_at: string;
  revoked: boolean;
  /** When the api last accepted the key, to the minute; null: never. */
  last_used_at: string | null;
}

/** The only time the api returns a key's secret. */
export interface ApiKeyCreated {
  id: number;
  key: string;
  name: string;
  role: Role;
}

export interface AuditEntry {
  id: number;
  at: string | null;
  actor: string;
  action: string;
  target: string | null;
  detail: Record<string, unknown> | null;
}

export interface AuditFacets {
  actors: string[];
  actions: string[];
}

export type ShopLanguage = "ru" | "en";
export type Weekday = "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun";
export const WEEKDAYS: Weekday[] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/** The merchant's shop settings; `version` 0: never saved, the server's defaults. */
export interface ShopSettings {
  version: number;
  name: string | null;
  greeting: Record<ShopLanguage, string>;
  /** Per weekday "HH:MM-HH:MM" (24:00 = midnight) or "closed", in `timezone`. */
  working_hours: { timezone: string; days: Record<Weekday, string> };
  return_window_days: number;
  languages: ShopLanguage[];
  updated_at: string | null;
  updated_by: string | null;
}

export type ShopSettingsUpdate = Omit<ShopSettings, "updated_at" | "updated_by" | "name"> & { name: string };

/** A knowledge base document as listed (the content only when read one by one). */
export interface KnowledgeSummary {
  language: ShopLanguage;
  name: string;
  title: string;
  version: number;
  size: number;
  updated_at: string | null;
  updated_by: string;
}

export interface KnowledgeDocument extends KnowledgeSummary {
  content: string;
}

export interface KnowledgeHistoryEntry {
  version: number;
  action: "seed" | "create" | "edit" | "upload" | "restore" | "delete";
  title: string;
  size: number;
  at: string | null;
  actor: string;
}

export interface KnowledgeVersion {
  version: number;
  action: string;
  title: string;
  content: string;
  at: string | null;
  actor: string;
}

export interface KnowledgeTryResult {
  answer: string | null;
  answerer: string;
  sources: string[];
  passages: { source: string; document: string; title: string; text: string }[];
}

export interface IntegrationField {
  /** The environment variable the action server would read it from. */
  name: string;
  label: string;
  secret: boolean;
  required: boolean;
  url: boolean;
  choices: string[];
  placeholder: string;
  /** A secret the api makes itself when none is stored. */
  generated: boolean;
}

/** One platform's card; secrets only ever masked ("••••1234"). */
export interface Integration {
  kind: string;
  category: "orders" | "payments" | "channels";
  title: string;
  help_url: string;
  note: string;
  fields: IntegrationField[];
  values: Record<string, string>;
  saved: boolean;
  version: number;
  active_version: number | null;
  enabled: boolean;
  pending: boolean;
  check: { status: "ok" | "error" | "unreachable"; message: string | null; checked_at: string | null } | null;
  updated_at: string | null;
  updated_by: string | null;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The api's `detail` as sent: a string, or FastAPI's list of field errors. */
    readonly detail?: unknown,
  ) {
    super(message);
  }
}

const SESSION_KEY = "easyflow.dashboard.session";
let onUnauthorized: () => void = () => undefined;

export function loadSession(): Session | null {
  try {
    const raw = localStorage.getItem(SESSION_KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

export function saveSession(session: Session | null): void {
  if (session) localStorage.setItem(SESSION_KEY, JSON.stringify(session));
  else localStorage.removeItem(SESSION_KEY);
}

export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

export type Query = Record<string, string | number | boolean | null | undefined>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

async function request(method: string, path: string, body?: unknown, raw?: Blob): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const session = loadSession();
  if (session) headers.Authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (raw !== undefined) headers["Content-Type"] = "application/octet-stream";
  const response = await fetch(path, {
    method,
    headers,
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  if (response.status === 401 && session) onUnauthorized();
  if (!response.ok) {
    let detail = response.statusText || `HTTP ${response.status}`;
    let raw: unknown;
    try {
      const data = (await response.json()) as { detail?: unknown };
      raw = data.detail;
      if (typeof data.detail === "string") detail = data.detail;
      else if (data.detail) detail = JSON.stringify(data.detail);
    } catch {
      /* not JSON */
    }
    throw new ApiError(response.status, detail, raw);
  }
  return response;
}

export async function get<T>(path: string, query?: Query): Promise<T> {
  return (await (await request("GET", withQuery(path, query))).json()) as T;
}

export async function post<T>(path: string, body?: unknown): Promise<T> {
  const response = await request("POST", path, body ?? {});
  const text = await response.text();
  return (text ? JSON.parse(text) : null) as T;
}

/** POSTs a file's bytes as they are (the api checks size and encoding). */
export async function postFile<T>(path: string, query: Query, file: Blob): Promise<T> {
  return (await (await request("POST", withQuery(path, query), undefined, file)).json()) as T;
}

export async function put<T>(path: string, body: unknown): Promise<T> {
  return (await (await request("PUT", path, body)).json()) as T;
}

export async function patch<T>(path: string, body: unknown): Promise<T> {
  return (await (await request("PATCH", path, body)).json()) as T;
}

/** A page of a list whose total count comes in the `X-Total-Count` header. */
export async function getPage<T>(path: string, query?: Query): Promise<{ items: T[]; total: number }> {
  const response = await request("GET", withQuery(path, query));
  const items = (await response.json()) as T[];
  const total = Number(response.headers.get("X-Total-Count") ?? items.length);
  return { items, total };
}

export async function del(path: string): Promise<void> {
  await request("DELETE", path);
}

/** An authenticated file as a blob URL (attachments shown in the page); the
 * caller revokes it. */
export async function blobUrl(path: string): Promise<string> {
  const response = await request("GET", path);
  return URL.createObjectURL(await response.blob());
}

/** Downloads an authenticated file (CSV, YAML) through a blob link. */
export async function download(path: string, query: Query | undefined, filename: string): Promise<void> {
  const response = await request("GET", withQuery(path, query));
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export async function login(username: string, password: string): Promise<Session> {
  const response = await fetch("/api/auth/login", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ username, password }),
  });
  if (!response.ok) {
    let detail = `HTTP ${response.status}`;
    try {
      const data = (await response.json()) as { detail?: unknown };
      if (typeof data.detail === "string") detail = data.detail;
    } catch {
      /* not JSON */
    }
    throw new ApiError(response.status, detail);
  }
  const data = (await response.json()) as { access_token: string; username: string; role: Role };
  const session = { token: data.access_token, username: data.username, role: data.role };
  saveSession(session);
  return session;
}

/** Signs out on the server too: the token is revoked there, not only forgotten here. */
export async function logout(): Promise<void> {
  const session = loadSession();
  saveSession(null);
  if (!session) return;
  try {
    await fetch("/api/auth/logout", {
      method: "POST",
      headers: { Authorization: `Bearer ${session.token}` },
    });
  } catch {
    /* offline: the token still expires on its own */
  }
}
