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
  operatorShort: string;
  operatorJoined: (name: string) => string;
  operatorLeft: string;
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
  operatorShort: "Оператор",
  operatorJoined: (name) => `С вами оператор ${name}`,
  operatorLeft: "Оператор завершил разговор, с вами снова ассистент",
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
  operatorShort: "Operator",
  operatorJoined: (name) => `${name} (operator) joined the chat`,
  operatorLeft: "The operator left, the assistant is back",
};

export function labelsFor(language: string): Labels {
  return language.toLowerCase().startsWith("ru") ? RU : EN;
}
