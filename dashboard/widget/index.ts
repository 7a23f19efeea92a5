// Easy Flow web chat widget: one self-contained file embedded with
//   <script src="https://<api-host>/widget/easyflow-widget.js"
//           data-rasa-url="http://localhost:5005" data-title="Shop" defer></script>
// It talks to Rasa's socket.io channel (contract: "Web chat (widget) ↔ Rasa"),
// and reads the shop's name and greeting from the api's public
// /api/public/shop (the merchant edits them on the dashboard's Shop page).
import { io, type Socket } from "socket.io-client";
import { STYLES } from "./styles";
import { languageOf, labelsFor, type Labels } from "./labels";

interface QuickReply {
  title: string;
  payload: string;
}

interface BotMessage {
  text?: string;
  quick_replies?: QuickReply[];
  buttons?: QuickReply[];
  attachment?: { type?: string; payload?: { src?: string } };
  image?: string;
  easyflow_handoff?: "active" | "ended" | string;
  operator?: string;
  data?: unknown;
  custom?: unknown;
}

type Stored =
  | { kind: "user"; text: string }
  | { kind: "bot"; text: string; operator?: string }
  | { kind: "image"; src: string }
  | { kind: "system"; text: string };

/** The api's public answer (GET /api/public/shop): only what the widget shows. */
interface PublicShop {
  name: string | null;
  greeting: Record<string, string>;
  languages: string[];
  operators: { working_now: boolean; until: string | null; next_at: string | null; timezone: string };
}

interface Config {
  rasaUrl: string;
  /** Where the api answers /api/public/shop; "" when it cannot be known. */
  apiUrl: string;
  language: "ru" | "en";
  socketPath: string;
  title: string;
  storageKey: string;
  labels: Labels;
  open: boolean;
}

const HISTORY_LIMIT = 60;
const TYPING_TIMEOUT_MS = 20000;
const SHOP_TIMEOUT_MS = 5000;
const URL_RE = /(https?:\/\/[^\s<>"')]+[^\s<>"').,;:!?])/g;

function readConfig(script: HTMLScriptElement | null): Config {
  const data = script?.dataset ?? {};
  const params = new URLSearchParams(window.location.search);
  const rasaUrl = (data.rasaUrl || "http://localhost:5005").replace(/\/+$/, "");
  const language = data.lang || navigator.language || "ru";
  return {
    rasaUrl,
    apiUrl: apiUrlOf(script),
    language: languageOf(language),
    socketPath: data.socketPath || "/socket.io/",
    title: data.title || "",
    storageKey: data.storageKey || "easyflow",
    labels: labelsFor(language),
    open: data.open === "true" || params.get("easyflow_open") === "1",
  };
}

/** data-api-url, else the origin the widget script itself was loaded from
 * (the api serves /widget/easyflow-widget.js). */
function apiUrlOf(script: HTMLScriptElement | null): string {
  const given = script?.dataset.apiUrl;
  try {
    if (given) return new URL(given, window.location.href).href.replace(/\/+$/, "");
    if (script?.src) return new URL(script.src, window.location.href).origin;
  } catch {
    /* not a URL: no shop settings, the embed's own title */
  }
  return "";
}

/** The shop's public settings, or null on any failure (the widget then
 * keeps its data-title and shows no greeting, as before they existed). */
async function fetchShop(apiUrl: string): Promise<PublicShop | null> {
  if (!apiUrl) return null;
  const controller = new AbortController();
  const timer = window.setTimeout(() => controller.abort(), SHOP_TIMEOUT_MS);
  try {
    const response = await fetch(`${apiUrl}/api/public/shop`, {
      credentials: "omit",
      signal: controller.signal,
      headers: { Accept: "application/json" },
    });
    if (!response.ok) return null;
    const shop = (await response.json()) as PublicShop;
    if (!shop || typeof shop !== "object" || !Array.isArray(shop.languages)) return null;
    return shop;
  } catch {
    return null;
  } finally {
    window.clearTimeout(timer);
  }
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Text with http(s) links made clickable, built from DOM nodes (never innerHTML). */
function linkified(text: string): DocumentFragment {
  const fragment = document.createDocumentFragment();
  let last = 0;
  for (const match of text.matchAll(URL_RE)) {
    const start = match.index ?? 0;
    if (start > last) fragment.append(text.slice(last, start));
    const link = el("a", undefined, match[0]);
    link.href = match[0];
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    fragment.append(link);
    last = start + match[0].length;
  }
  if (last < text.length) fragment.append(text.slice(last));
  return fragment;
}

/** Rasa's socket.io channel emits custom JSON as-is; unwrap a `data`/`custom` key. */
function handoffOf(message: BotMessage): { state: string; operator?: string } | null {
  for (const candidate of [message, message.data, message.custom]) {
    if (candidate && typeof candidate === "object" && "easyflow_handoff" in candidate) {
      const value = candidate as { easyflow_handoff: unknown; operator?: unknown };
      return {
        state: String(value.easyflow_handoff),
        operator: typeof value.operator === "string" ? value.operator : undefined,
      };
    }
  }
  return null;
}

class EasyFlowWidget {
  private readonly config: Config;
  private readonly host: HTMLElement;
  private readonly root: ShadowRoot;
  private readonly panel: HTMLElement;
  private readonly launcher: HTMLButtonElement;
  private readonly log: HTMLElement;
  private readonly chips: HTMLElement;
  private readonly typing: HTMLElement;
  private readonly status: HTMLElement;
  private readonly banner: HTMLElement;
  private readonly input: HTMLTextAreaElement;
  private readonly title: HTMLElement;
  private readonly intro: HTMLElement;
  private socket: Socket | null = null;
  private confirmed = false;
  private queue: string[] = [];
  private history: Stored[] = [];
  private typingTimer: number | undefined;
  private operator: string | null = null;
  private sessionId: string;

  constructor(config: Config) {
    this.config = config;
    const labels = config.labels;
    this.sessionId = this.loadSessionId();
    this.host = el("div");
    this.host.id = "easyflow-widget";
    this.host.setAttribute("data-easyflow", "widget");
    // A landmark of its own: the launcher and the panel are not loose content of
    // the shop's page for screen readers (a role, not an <aside>, that shop CSS
    // for aside would reach).
    this.host.setAttribute("role", "complementary");
    this.host.setAttribute("aria-label", config.title || labels.title);
    this.root = this.host.attachShadow({ mode: "open" });
    const style = el("style");
    style.textContent = STYLES;
    this.root.append(style);

    this.launcher = el("button", "ef-launcher");
    this.launcher.type = "button";
    this.launcher.setAttribute("aria-label", labels.open);
    this.launcher.innerHTML =
      '<svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true"><path fill="currentColor" d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg>';
    this.launcher.addEventListener("click", () => this.setOpen(true));

    this.panel = el("section", "ef-panel");
    this.panel.setAttribute("role", "dialog");
    this.panel.setAttribute("aria-label", config.title || labels.title);
    this.panel.hidden = true;

    // A <div>, not a <header>: a second banner landmark beside the shop's own.
    const header = el("div", "ef-header");
    const heading = el("div", "ef-heading");
    this.title = el("div", "ef-title", config.title || labels.title);
    heading.append(this.title);
    this.status = el("div", "ef-status", labels.connecting);
    heading.append(this.status);
    const close = el("button", "ef-close", "×");
    close.type = "button";
    close.setAttribute("aria-label", labels.close);
    close.addEventListener("click", () => this.setOpen(false));
    header.append(heading, close);

    this.banner = el("div", "ef-handoff");
    this.banner.hidden = true;
    this.banner.setAttribute("role", "status");

    this.log = el("div", "ef-log");
    this.log.setAttribute("role", "log");
    this.log.setAttribute("aria-live", "polite");
    this.log.setAttribute("aria-label", labels.messages);
    // Scrollable, so reachable by keyboard to scroll it back.
    this.log.tabIndex = 0;
    // The shop's greeting: shown above the conversation, never stored in it.
    this.intro = el("div", "ef-intro");
    this.intro.hidden = true;
    this.intro.setAttribute("data-easyflow", "greeting");
    this.typing = el("div", "ef-typing");
    // Three animated dots: an image with a name (a name on a bare <div> is not allowed).
    this.typing.setAttribute("role", "img");
    this.typing.setAttribute("aria-label", labels.typing);
    this.typing.append(el("span"), el("span"), el("span"));
    this.typing.hidden = true;
    this.chips = el("div", "ef-chips");

    const form = el("form", "ef-form");
    this.input = el("textarea", "ef-input");
    this.input.rows = 1;
    this.input.placeholder = labels.placeholder;
    this.input.setAttribute("aria-label", labels.placeholder);
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    const send = el("button", "ef-send", labels.send);
    send.type = "submit";
    form.append(this.input, send);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = this.input.value.trim();
      if (!text) return;
      this.input.value = "";
      this.sendUser(text, text);
    });

    this.panel.append(header, this.banner, this.log, this.chips, form);
    this.log.append(this.intro, this.typing);
    this.root.append(this.launcher, this.panel);
    document.body.append(this.host);

    this.restoreHistory();
    if (config.open || localStorage.getItem(this.key("open")) === "1") this.setOpen(true);
  }

  /** Applies the merchant's settings: the shop name as the title, and the
   * greeting in the shopper's language (else the shop's first language). */
  applyShop(shop: PublicShop): void {
    if (typeof shop.name === "string" && shop.name.trim()) {
      this.title.textContent = shop.name;
      this.panel.setAttribute("aria-label", shop.name);
      this.host.setAttribute("aria-label", shop.name);
      this.host.setAttribute("data-shop", shop.name);
    }
    const enabled = shop.languages.filter((l) => l === "ru" || l === "en");
    const lang = enabled.includes(this.config.language) ? this.config.language : enabled[0];
    const greeting = lang ? shop.greeting?.[lang] : undefined;
    const labels = lang ? labelsFor(lang) : this.config.labels;
    this.intro.replaceChildren();
    if (typeof greeting === "string" && greeting.trim()) {
      const bubble = el("div", "ef-msg ef-bot ef-greeting");
      const body = el("div", "ef-text");
      body.append(linkified(greeting));
      bubble.append(body);
      this.intro.append(bubble);
    }
    const operators = shop.operators;
    if (operators && !operators.working_now && operators.next_at) {
      const when = new Date(operators.next_at);
      if (!Number.isNaN(when.getTime())) {
        this.intro.append(el("div", "ef-system ef-hours", labels.operatorsFrom(when)));
      }
    }
    this.intro.hidden = this.intro.childElementCount === 0;
    this.scrollDown();
  }

  private key(name: string): string {
    return `${this.config.storageKey}.${name}`;
  }

  // The server issues the session (a signed id, given in session_confirm); a
  // first visit presents none.
  private loadSessionId(): string {
    return localStorage.getItem(this.key("session_id")) ?? "";
  }

  setOpen(open: boolean): void {
    this.panel.hidden = !open;
    this.launcher.hidden = open;
    this.host.classList.toggle("ef-open", open);
    localStorage.setItem(this.key("open"), open ? "1" : "0");
    if (open) {
      this.connect();
      window.setTimeout(() => this.input.focus(), 0);
      this.scrollDown();
    }
  }

  private connect(): void {
    if (this.socket) return;
    const socket = io(this.config.rasaUrl, {
      path: this.config.socketPath,
      transports: ["websocket"],
      reconnection: true,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 5000,
    });
    this.socket = socket;
    socket.on("connect", () => {
      this.confirmed = false;
      this.setStatus(this.config.labels.connecting, "connecting");
      socket.emit("session_request", { session_id: this.sessionId || null });
    });
    socket.on("session_confirm", (sessionId: unknown) => {
      if (typeof sessionId === "string" && sessionId && sessionId !== this.sessionId) {
        this.sessionId = sessionId;
        localStorage.setItem(this.key("session_id"), sessionId);
      }
      this.confirmed = true;
      this.setStatus(this.config.labels.online, "online");
      const pending = this.queue;
      this.queue = [];
      for (const payload of pending) this.emitUser(payload);
    });
    socket.on("bot_uttered", (message: BotMessage) => this.receive(message));
    socket.on("disconnect", () => {
      this.confirmed = false;
      this.setStatus(this.config.labels.reconnecting, "offline");
    });
    socket.on("connect_error", () => {
      this.setStatus(this.config.labels.reconnecting, "offline");
    });
  }

  private setStatus(text: string, state: string): void {
    this.status.textContent = this.operator
      ? `${this.config.labels.operatorShort}: ${this.operator}`
      : text;
    this.status.dataset.state = state;
  }

  private sendUser(display: string, payload: string): void {
    this.clearChips();
    this.append({ kind: "user", text: display });
    if (this.confirmed && this.socket?.connected) this.emitUser(payload);
    else this.queue.push(payload);
    this.connect();
  }

  private emitUser(payload: string): void {
    this.socket?.emit("user_uttered", { message: payload, session_id: this.sessionId });
    if (!this.operator) this.showTyping(true);
  }

  private receive(message: BotMessage): void {
    this.showTyping(false);
    const handoff = handoffOf(message);
    if (handoff) {
      this.setHandoff(handoff.state, handoff.operator);
      if (!message.text) return;
    }
    const src = message.attachment?.payload?.src ?? message.image;
    if (src && (message.attachment?.type ?? "image") === "image") {
      this.append({ kind: "image", src });
    }
    if (message.text) {
      this.append({
        kind: "bot",
        text: message.text,
        operator: this.operator ?? undefined,
      });
    }
    const replies = message.quick_replies ?? message.buttons ?? [];
    if (replies.length) this.renderChips(replies);
  }

  private setHandoff(state: string, operator?: string): void {
    const labels = this.config.labels;
    if (state === "active") {
      this.operator = operator || labels.operatorShort;
      this.banner.textContent = labels.operatorJoined(this.operator);
      this.banner.hidden = false;
      this.host.setAttribute("data-handoff", "active");
      this.append({ kind: "system", text: labels.operatorJoined(this.operator) });
    } else {
      // action_handoff_returned sends this indicator before the "assistant is
      // back" text, so every message before it keeps its author as shown.
      this.operator = null;
      this.banner.hidden = true;
      this.banner.textContent = "";
      this.host.setAttribute("data-handoff", "ended");
      this.append({ kind: "system", text: labels.operatorLeft });
    }
    localStorage.setItem(this.key("operator"), this.operator ?? "");
    this.setStatus(labels.online, this.status.dataset.state ?? "online");
  }

  private append(item: Stored, persist = true): void {
    let node: HTMLElement;
    if (item.kind === "image") {
      node = el("div", "ef-msg ef-bot ef-image");
      const img = el("img");
      img.src = item.src;
      img.alt = "";
      node.append(img);
    } else {
      node = el("div", `ef-msg ef-${item.kind}`);
      if (item.kind === "bot" && item.operator) {
        node.classList.add("ef-operator");
        node.append(el("div", "ef-author", item.operator));
      }
      const body = el("div", "ef-text");
      body.append(linkified(item.text));
      node.append(body);
    }
    this.log.insertBefore(node, this.typing);
    if (persist) {
      this.history.push(item);
      this.history = this.history.slice(-HISTORY_LIMIT);
      localStorage.setItem(this.key("history"), JSON.stringify(this.history));
    }
    this.scrollDown();
  }

  private restoreHistory(): void {
    try {
      const raw = localStorage.getItem(this.key("history"));
      const items = raw ? (JSON.parse(raw) as Stored[]) : [];
      for (const item of items) this.append(item, false);
      this.history = items;
    } catch {
      this.history = [];
    }
    const operator = localStorage.getItem(this.key("operator"));
    if (operator) {
      this.operator = operator;
      this.banner.textContent = this.config.labels.operatorJoined(operator);
      this.banner.hidden = false;
      this.host.setAttribute("data-handoff", "active");
    }
  }

  private renderChips(replies: QuickReply[]): void {
    this.clearChips();
    for (const reply of replies) {
      const chip = el("button", "ef-chip", reply.title);
      chip.type = "button";
      chip.addEventListener("click", () => this.sendUser(reply.title, reply.payload));
      this.chips.append(chip);
    }
    this.scrollDown();
  }

  private clearChips(): void {
    this.chips.replaceChildren();
  }

  private showTyping(on: boolean): void {
    window.clearTimeout(this.typingTimer);
    this.typing.hidden = !on;
    if (on) {
      this.typingTimer = window.setTimeout(() => {
        this.typing.hidden = true;
      }, TYPING_TIMEOUT_MS);
      this.scrollDown();
    }
  }

  private scrollDown(): void {
    this.log.scrollTop = this.log.scrollHeight;
  }
}

declare global {
  interface Window {
    EasyFlow?: { open(): void; close(): void };
  }
}

function start(): void {
  const script =
    (document.currentScript as HTMLScriptElement | null) ??
    document.querySelector<HTMLScriptElement>("script[data-rasa-url]");
  const config = readConfig(script);
  const boot = () => {
    if (document.getElementById("easyflow-widget")) return;
    const widget = new EasyFlowWidget(config);
    window.EasyFlow = { open: () => widget.setOpen(true), close: () => widget.setOpen(false) };
    void fetchShop(config.apiUrl).then((shop) => {
      if (shop) widget.applyShop(shop);
    });
  };
  if (document.body) boot();
  else document.addEventListener("DOMContentLoaded", boot);
}

start();
