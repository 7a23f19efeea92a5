// The seed's Conversation model: id, user id, messages, status.
import type { QuickReply } from "./protocol";

export type ConversationStatus = "bot" | "operator" | "closed";

/**
 * queued: typed while offline, waits for the connection (sent once, in order);
 * sending: emitted, no acknowledgement yet; sent: the server acknowledged it;
 * failed: the connection dropped or no acknowledgement came (retry resends it).
 */
export type MessageStatus = "queued" | "sending" | "sent" | "failed";

export interface UserMessage {
  id: string;
  role: "user";
  /** What the shopper sees: the typed text or a button's title. */
  text: string;
  /** What goes to the server: the same text or a button's payload. */
  payload: string;
  status: MessageStatus;
  at: number;
}

export interface BotMessageItem {
  id: string;
  role: "bot";
  text?: string;
  image?: string;
  buttons?: QuickReply[];
  /** Set when an operator, not the assistant, wrote it. */
  operator?: string;
  at: number;
}

export interface SystemMessage {
  id: string;
  role: "system";
  event: "operator_joined" | "operator_left";
  operator?: string;
  at: number;
}

export type Message = UserMessage | BotMessageItem | SystemMessage;

export interface Conversation {
  id: string;
  userId: string;
  status: ConversationStatus;
  messages: Message[];
  operator?: string;
  createdAt: number;
  updatedAt: number;
}

export const HISTORY_LIMIT = 200;
export const CONVERSATION_LIMIT = 30;

export function randomId(): string {
  const bytes = new Uint8Array(16);
  const crypto = (globalThis as { crypto?: { getRandomValues?: (a: Uint8Array) => Uint8Array } }).crypto;
  if (crypto?.getRandomValues) crypto.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i += 1) bytes[i] = Math.floor(Math.random() * 256);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The buttons still on offer: those of the last message, if the bot sent it. */
export function pendingButtons(conversation: Conversation | undefined): QuickReply[] {
  const last = conversation?.messages[conversation.messages.length - 1];
  return last && last.role === "bot" && last.buttons ? last.buttons : [];
}
