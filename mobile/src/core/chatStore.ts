// The shopper's conversations: history on the device, the offline queue, message
// states, handoff status. One conversation is live (one socket); starting a new
// one closes the previous. React subscribes through `subscribe`/`getState`.
import { ChatConnection, type ConnectionOptions, type ConnectionState } from "./connection";
import {
  CONVERSATION_LIMIT,
  HISTORY_LIMIT,
  randomId,
  type Conversation,
  type Message,
  type UserMessage,
} from "./model";
import { partsOf, type QuickReply } from "./protocol";
import { ACTIVE_KEY, CONVERSATIONS_KEY, sessionKey, USER_KEY, type KeyValue } from "./storage";

export interface ChatState {
  loaded: boolean;
  conversations: Conversation[];
  activeId: string | null;
  connection: ConnectionState;
  typing: boolean;
}

export interface ChatStoreOptions {
  url: string;
  path: string;
  storage: KeyValue;
  secrets: KeyValue;
  backoff?: ConnectionOptions["backoff"];
  ackTimeoutMs?: number;
  typingTimeoutMs?: number;
  now?: () => number;
  /** The server confirmed a session for the live conversation (push registration). */
  onSession?: (sessionId: string) => void;
}

const TYPING_TIMEOUT_MS = 20000;

export class ChatStore {
  private state: ChatState = { loaded: false, conversations: [], activeId: null, connection: "offline", typing: false };
  private readonly listeners = new Set<() => void>();
  private readonly options: ChatStoreOptions;
  private connection: ChatConnection | null = null;
  private userId = "";
  private typingTimer: ReturnType<typeof setTimeout> | null = null;
  private writes: Promise<void> = Promise.resolve();

  constructor(options: ChatStoreOptions) {
    this.options = options;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getState = (): ChatState => this.state;

  get active(): Conversation | undefined {
    return this.state.conversations.find((c) => c.id === this.state.activeId);
  }

  /** Reads history from the device and connects the live conversation. */
  async load(): Promise<void> {
    const { storage } = this.options;
    this.userId = (await storage.getItem(USER_KEY)) ?? "";
    if (!this.userId) {
      this.userId = randomId();
      await storage.setItem(USER_KEY, this.userId);
    }
    let conversations: Conversation[] = [];
    try {
      const raw = await storage.getItem(CONVERSATIONS_KEY);
      const parsed: unknown = raw ? JSON.parse(raw) : [];
      if (Array.isArray(parsed)) conversations = parsed as Conversation[];
    } catch {
      conversations = [];
    }
    // A message that was in flight when the app stopped may or may not have
    // arrived: the shopper decides (retry), it is never resent on its own.
    conversations = conversations.map((c) => ({
      ...c,
      messages: c.messages.map((m) => (m.role === "user" && m.status === "sending" ? { ...m, status: "failed" } : m)),
    }));
    const storedActive = await storage.getItem(ACTIVE_KEY);
    let active = conversations.find((c) => c.id === storedActive && c.status !== "closed");
    if (!active) {
      active = this.newConversation();
      conversations = [active, ...conversations];
    }
    this.update({ loaded: true, conversations, activeId: active.id });
    this.persist();
    this.connect();
  }

  /** The shopper typed `text`, or pressed a button (`payload` sent, title shown). */
  send(text: string, payload: string = text): void {
    const display = text.trim();
    const body = payload.trim();
    if (!display || !body || !this.active || this.active.status === "closed") return;
    const message: UserMessage = {
      id: randomId(),
      role: "user",
      text: display,
      payload: body,
      status: "queued",
      at: this.now(),
    };
    this.changeActive((c) => ({ ...c, messages: [...c.messages, message] }));
    this.flush();
  }

  pressButton(reply: QuickReply): void {
    this.send(reply.title, reply.payload);
  }

  /** Sends a failed message again, now, at the end of the conversation. */
  retry(messageId: string): void {
    const message = this.active?.messages.find((m) => m.id === messageId);
    if (!message || message.role !== "user" || message.status !== "failed") return;
    this.changeActive((c) => ({
      ...c,
      messages: [
        ...c.messages.filter((m) => m.id !== messageId),
        { ...message, id: randomId(), status: "queued", at: this.now() },
      ],
    }));
    this.flush();
  }

  /** Closes the live conversation and starts a fresh session with the server. */
  async startNewConversation(): Promise<void> {
    this.connection?.stop();
    this.connection = null;
    const previous = this.state.activeId;
    const fresh = this.newConversation();
    const conversations = [
      fresh,
      ...this.state.conversations.map((c) => (c.id === previous ? { ...c, status: "closed" as const, updatedAt: this.now() } : c)),
    ].slice(0, CONVERSATION_LIMIT);
    this.update({ conversations, activeId: fresh.id, typing: false });
    if (previous) await this.options.secrets.removeItem(sessionKey(previous)).catch(() => undefined);
    this.persist();
    this.connect();
  }

  /** The device lost its network: messages typed now wait in the queue. */
  networkLost(): void {
    this.connection?.pause();
  }

  /** The network came back or the app is in the foreground again. */
  networkRestored(): void {
    this.connection?.retryNow();
  }

  stop(): void {
    this.connection?.stop();
    this.connection = null;
    if (this.typingTimer) clearTimeout(this.typingTimer);
  }

  /** Resolves once every history write so far has reached storage. */
  flushed(): Promise<void> {
    return this.writes;
  }

  private connect(): void {
    const conversationId = this.state.activeId;
    if (!conversationId) return;
    const key = sessionKey(conversationId);
    const connection = new ChatConnection({
      url: this.options.url,
      path: this.options.path,
      backoff: this.options.backoff,
      ackTimeoutMs: this.options.ackTimeoutMs,
      loadSession: () => this.options.secrets.getItem(key),
      saveSession: (sessionId) => this.options.secrets.setItem(key, sessionId),
      onState: (connectionState) => this.update({ connection: connectionState }),
      onReady: (sessionId) => {
        this.flush();
        this.options.onSession?.(sessionId);
      },
      onDrop: () => this.failInFlight(conversationId),
      onBot: (message) => this.receive(conversationId, message),
    });
    this.connection = connection;
    connection.start();
  }

  /** Sends queued messages, oldest first, each once. */
  private flush(): void {
    const connection = this.connection;
    const conversation = this.active;
    if (!connection || !conversation || !connection.isReady) return;
    for (const message of conversation.messages) {
      if (message.role !== "user" || message.status !== "queued") continue;
      if (!connection.isReady) break;
      this.setStatus(conversation.id, message.id, "sending");
      const emitted = connection.send(message.payload, (acknowledged) => {
        this.setStatus(conversation.id, message.id, acknowledged ? "sent" : "failed", acknowledged);
      });
      if (!emitted) {
        this.setStatus(conversation.id, message.id, "queued");
        break;
      }
      if (conversation.status !== "operator") this.showTyping(true);
    }
  }

  private setStatus(conversationId: string, messageId: string, status: UserMessage["status"], late = false): void {
    this.change(conversationId, (c) => ({
      ...c,
      messages: c.messages.map((m) => {
        if (m.id !== messageId || m.role !== "user") return m;
        // An acknowledgement after a timeout still means "sent"; nothing else
        // moves a message back once it failed or was re-queued by a retry.
        if (late && m.status === "failed") return { ...m, status };
        if (status === "sent" || status === "failed") return m.status === "sending" ? { ...m, status } : m;
        return { ...m, status };
      }),
    }));
  }

  private failInFlight(conversationId: string): void {
    this.showTyping(false);
    this.change(conversationId, (c) => ({
      ...c,
      messages: c.messages.map((m) => (m.role === "user" && m.status === "sending" ? { ...m, status: "failed" } : m)),
    }));
  }

  private receive(conversationId: string, raw: unknown): void {
    const parts = partsOf(raw);
    this.showTyping(false);
    this.change(conversationId, (c) => {
      let next: Conversation = c;
      const at = this.now();
      if (parts.handoff) {
        if (parts.handoff.state === "active") {
          const operator = parts.handoff.operator ?? c.operator ?? "";
          next = {
            ...next,
            status: "operator",
            operator: operator || undefined,
            messages: [...next.messages, { id: randomId(), role: "system", event: "operator_joined", operator: operator || undefined, at }],
          };
        } else {
          // The action server sends the marker before "the assistant is back"
          // (actions/handoff.py), so everything before it stays as it was.
          next = {
            ...next,
            status: "bot",
            operator: undefined,
            messages: [...next.messages, { id: randomId(), role: "system", event: "operator_left", at }],
          };
        }
      }
      if (parts.text || parts.image || parts.replies.length) {
        const item: Message = {
          id: randomId(),
          role: "bot",
          text: parts.text,
          image: parts.image,
          buttons: parts.replies.length ? parts.replies : undefined,
          operator: next.status === "operator" ? next.operator || "operator" : undefined,
          at,
        };
        next = { ...next, messages: [...next.messages, item] };
      }
      return next;
    });
  }

  private showTyping(on: boolean): void {
    if (this.typingTimer) clearTimeout(this.typingTimer);
    this.typingTimer = null;
    if (on) {
      this.typingTimer = setTimeout(() => this.update({ typing: false }), this.options.typingTimeoutMs ?? TYPING_TIMEOUT_MS);
    }
    if (this.state.typing !== on) this.update({ typing: on });
  }

  private newConversation(): Conversation {
    const at = this.now();
    return { id: randomId(), userId: this.userId, status: "bot", messages: [], createdAt: at, updatedAt: at };
  }

  private changeActive(fn: (c: Conversation) => Conversation): void {
    if (this.state.activeId) this.change(this.state.activeId, fn);
  }

  private change(conversationId: string, fn: (c: Conversation) => Conversation): void {
    let changed = false;
    const conversations = this.state.conversations.map((c) => {
      if (c.id !== conversationId) return c;
      const next = fn(c);
      if (next === c) return c;
      changed = true;
      return { ...next, messages: next.messages.slice(-HISTORY_LIMIT), updatedAt: this.now() };
    });
    if (!changed) return;
    this.update({ conversations });
    this.persist();
  }

  private persist(): void {
    const { conversations, activeId } = this.state;
    const { storage } = this.options;
    const snapshot = JSON.stringify(conversations);
    this.writes = this.writes
      .then(async () => {
        await storage.setItem(CONVERSATIONS_KEY, snapshot);
        if (activeId) await storage.setItem(ACTIVE_KEY, activeId);
      })
      .catch(() => undefined);
  }

  private update(patch: Partial<ChatState>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of this.listeners) listener();
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
