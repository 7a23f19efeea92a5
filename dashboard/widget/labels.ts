// Widget labels in the shopper's language (navigator.language or data-lang).
export interface Labels {
  title: string;
  open: string;
  close: string;
  placeholder: string;
  send: string;
  connecting: string;
  online: string;
  reconnecting: string;
  typing: string;
  /** The conversation's name for screen readers. */
  messages: string;
  operatorShort: string;
  operatorJoined: (name: string) => string;
  operatorLeft: string;
  /** Operators are off now and start again at `when` (shown in the shopper's time). */
  operatorsFrom: (when: Date) => string;
}

function at(when: Date, locale: string): string {
  return when.toLocaleString(locale, { weekday: "short", hour: "2-digit", minute: "2-digit" });
}

const RU: Labels = {
  title: "Помощник магазина",
  open: "Открыть чат",
  close: "Закрыть чат",
  placeholder: "Напишите сообщение…",
  send: "Отправить",
  connecting: "Подключение…",
  online: "Онлайн",
  reconnecting: "Нет связи, переподключаемся…",
  typing: "Печатает…",
  messages: "Сообщения",
  operatorShort: "Оператор",
  operatorJoined: (name) => `С вами оператор ${name}`,
  operatorLeft: "Оператор завершил разговор, с вами снова ассистент",
  operatorsFrom: (when) => `Операторы сейчас не работают, ответят с ${at(when, "ru-RU")}. Ассистент на связи.`,
};

const EN: Labels = {
  title: "Shop assistant",
  open: "Open chat",
  close: "Close chat",
  placeholder: "Type a message…",
  send: "Send",
  connecting: "Connecting…",
  online: "Online",
  reconnecting: "Connection lost, reconnecting…",
  typing: "Typing…",
  messages: "Messages",
  operatorShort: "Operator",
  operatorJoined: (name) => `${name} (operator) joined the chat`,
  operatorLeft: "The operator left, the assistant is back",
  operatorsFrom: (when) => `Operators are away until ${at(when, "en-GB")}; the assistant is here now.`,
};

export function languageOf(language: string): "ru" | "en" {
  return language.toLowerCase().startsWith("ru") ? "ru" : "en";
}

export function labelsFor(language: string): Labels {
  return languageOf(language) === "ru" ? RU : EN;
}
