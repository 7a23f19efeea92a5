// Formatting helpers shared by the pages.

export function pct(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  return `${(value * 100).toFixed(1)}%`;
}

export function num(value: number | null | undefined, digits = 0): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  return value.toFixed(digits);
}

/** Timestamps arrive as ISO strings or epoch seconds. */
export function toDate(value: string | number | null | undefined): Date | null {
  if (value === null || value === undefined || value === "") return null;
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function dateTime(value: string | number | null | undefined, lang: string): string {
  const date = toDate(value);
  if (!date) return "—";
  return date.toLocaleString(lang === "en" ? "en-GB" : "ru-RU", {
    day: "2-digit",
    month: "2-digit",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
}

export function time(value: string | number | null | undefined, lang: string): string {
  const date = toDate(value);
  if (!date) return "";
  return date.toLocaleTimeString(lang === "en" ? "en-GB" : "ru-RU", {
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

export function isoDay(date: Date): string {
  const y = date.getFullYear();
  const m = String(date.getMonth() + 1).padStart(2, "0");
  const d = String(date.getDate()).padStart(2, "0");
  return `${y}-${m}-${d}`;
}

export function daysAgo(days: number): string {
  const date = new Date();
  date.setDate(date.getDate() - days);
  return isoDay(date);
}

export const CHANNELS = ["socketio", "rest", "telegram", "vk", "whatsapp", "viber", "alice"];

export const CHANNEL_COLORS: Record<string, string> = {
  socketio: "#2563eb",
  rest: "#64748b",
  telegram: "#0ea5e9",
  vk: "#4f46e5",
  whatsapp: "#16a34a",
  viber: "#7c3aed",
  alice: "#f59e0b",
};

export function channelColor(channel: string): string {
  if (CHANNEL_COLORS[channel]) return CHANNEL_COLORS[channel];
  let hash = 0;
  for (const char of channel) hash = (hash * 31 + char.charCodeAt(0)) % 360;
  return `hsl(${hash}, 55%, 50%)`;
}
