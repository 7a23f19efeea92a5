// UI text in Russian or English, following the device locale (expo-localization).
import { getLocales } from "expo-localization";

export type Language = "ru" | "en";

export interface Labels {
  language: Language;
  assistant: string;
  placeholder: string;
  send: string;
  connecting: string;
  online: string;
  offline: string;
  typing: string;
  operator: string;
  operatorJoined: (name?: string) => string;
  operatorLeft: string;
  statusQueued: string;
  statusSending: string;
  statusSent: string;
  statusFailed: string;
  retry: string;
  you: string;
  image: string;
  openLink: (url: string) => string;
  conversations: string;
  newConversation: string;
  backToChat: string;
  conversationStatus: Record<"bot" | "operator" | "closed", string>;
  emptyConversation: string;
  closedNotice: string;
  messagesCount: (n: number) => string;
  configError: string;
}

function ruPlural(n: number, one: string, few: string, many: string): string {
  const mod10 = n % 10;
  const mod100 = n % 100;
  if (mod10 === 1 && mod100 !== 11) return one;
  if (mod10 >= 2 && mod10 <= 4 && (mod100 < 12 || mod100 > 14)) return few;
  return many;
}

export const RU: Labels = {
  language: "ru",
  assistant: "Ассистент",
  placeholder: "Напишите сообщение…",
  send: "Отправить",
  connecting: "Подключение…",
  online: "Онлайн",
  offline: "Нет связи, переподключаемся…",
  typing: "Печатает…",
  operator: "Оператор",
  operatorJoined: (name) => (name ? `С вами оператор ${name}` : "С вами оператор"),
  operatorLeft: "Оператор завершил разговор, с вами снова ассистент",
  statusQueued: "Ждёт сети",
  statusSending: "Отправляется",
  statusSent: "Отправлено",
  statusFailed: "Не отправлено",
  retry: "Повторить",
  you: "Вы",
  image: "Изображение",
  openLink: (url) => `Открыть ссылку ${url}`,
  conversations: "Разговоры",
  newConversation: "Новый разговор",
  backToChat: "К чату",
  conversationStatus: { bot: "Ассистент", operator: "Оператор", closed: "Закрыт" },
  emptyConversation: "Спросите, где ваш заказ, как вернуть товар или оплатить.",
  closedNotice: "Разговор закрыт.",
  messagesCount: (n) => `${n} ${ruPlural(n, "сообщение", "сообщения", "сообщений")}`,
  configError: "Приложение настроено неверно",
};

export const EN: Labels = {
  language: "en",
  assistant: "Assistant",
  placeholder: "Type a message…",
  send: "Send",
  connecting: "Connecting…",
  online: "Online",
  offline: "Connection lost, reconnecting…",
  typing: "Typing…",
  operator: "Operator",
  operatorJoined: (name) => (name ? `${name} (operator) joined the chat` : "An operator joined the chat"),
  operatorLeft: "The operator left, the assistant is back",
  statusQueued: "Waiting for network",
  statusSending: "Sending",
  statusSent: "Sent",
  statusFailed: "Not sent",
  retry: "Retry",
  you: "You",
  image: "Image",
  openLink: (url) => `Open link ${url}`,
  conversations: "Conversations",
  newConversation: "New conversation",
  backToChat: "Back to chat",
  conversationStatus: { bot: "Assistant", operator: "Operator", closed: "Closed" },
  emptyConversation: "Ask where your order is, how to return an item or how to pay.",
  closedNotice: "This conversation is closed.",
  messagesCount: (n) => `${n} ${n === 1 ? "message" : "messages"}`,
  configError: "The app is misconfigured",
};

/** Labels for a BCP 47 tag or language code: Russian for ru*, English otherwise. */
export function labelsFor(tag: string | null | undefined): Labels {
  return (tag ?? "").toLowerCase().startsWith("ru") ? RU : EN;
}

/** The device's first preferred language decides. */
export function deviceLabels(): Labels {
  const first = getLocales()[0];
  return labelsFor(first?.languageCode ?? first?.languageTag);
}
