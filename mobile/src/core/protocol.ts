// Rasa's web chat (socket.io) protocol, as the widget speaks it
// (dashboard/widget/index.ts): session_request / session_confirm, user_uttered,
// bot_uttered. Pure functions only; the socket lives in connection.ts.

export interface QuickReply {
  title: string;
  payload: string;
}

/** One `bot_uttered` event as Rasa's socket.io output channel emits it. */
export interface BotMessage {
  text?: string;
  quick_replies?: QuickReply[];
  buttons?: QuickReply[];
  attachment?: { type?: string; payload?: { src?: string } };
  image?: string;
  easyflow_handoff?: string;
  operator?: string;
  data?: unknown;
  custom?: unknown;
}

export interface Handoff {
  state: "active" | "ended";
  operator?: string;
}

/** What the app shows for one bot_uttered event. */
export interface BotParts {
  text?: string;
  image?: string;
  replies: QuickReply[];
  handoff: Handoff | null;
}

const HTTP_URL = /^https?:\/\/\S+$/i;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Rasa emits custom JSON as-is; the handoff marker may sit under `data`/`custom`. */
export function handoffOf(message: BotMessage): Handoff | null {
  for (const candidate of [message, message.data, message.custom]) {
    if (isRecord(candidate) && "easyflow_handoff" in candidate) {
      const state = candidate.easyflow_handoff === "active" ? "active" : "ended";
      const operator = typeof candidate.operator === "string" && candidate.operator ? candidate.operator : undefined;
      return { state, operator };
    }
  }
  return null;
}

function repliesOf(value: unknown): QuickReply[] {
  if (!Array.isArray(value)) return [];
  return value
    .filter(isRecord)
    .map((item) => ({
      title: typeof item.title === "string" ? item.title : "",
      payload: typeof item.payload === "string" ? item.payload : "",
    }))
    .filter((reply) => reply.title !== "" && reply.payload !== "");
}

/** Splits a bot_uttered event into what the chat shows; unknown shapes give nothing. */
export function partsOf(raw: unknown): BotParts {
  if (!isRecord(raw)) return { replies: [], handoff: null };
  const message = raw as BotMessage;
  const text = typeof message.text === "string" && message.text.trim() !== "" ? message.text : undefined;
  const attachment = isRecord(message.attachment) ? message.attachment : undefined;
  const attachmentSrc = attachment && (attachment.type ?? "image") === "image" ? attachment.payload?.src : undefined;
  const src = attachmentSrc ?? message.image;
  // Images only from http(s): no data:, file: or javascript: URLs from a message.
  const image = typeof src === "string" && HTTP_URL.test(src) ? src : undefined;
  const quick = repliesOf(message.quick_replies);
  return {
    text,
    image,
    replies: quick.length ? quick : repliesOf(message.buttons),
    handoff: handoffOf(message),
  };
}

export interface TextSpan {
  text: string;
  url?: string;
}

const URL_RE = /(https?:\/\/[^\s<>"')]+[^\s<>"').,;:!?])/g;

/** Text cut into plain spans and http(s) link spans (payment links, tracking pages). */
export function linkify(text: string): TextSpan[] {
  const spans: TextSpan[] = [];
  let last = 0;
  for (const match of text.matchAll(URL_RE)) {
    const start = match.index ?? 0;
    if (start > last) spans.push({ text: text.slice(last, start) });
    spans.push({ text: match[0], url: match[0] });
    last = start + match[0].length;
  }
  if (last < text.length) spans.push({ text: text.slice(last) });
  return spans;
}

/** The user_uttered payload: the confirmed session id is the conversation. */
export function userUttered(message: string, sessionId: string): { message: string; session_id: string } {
  return { message, session_id: sessionId };
}
