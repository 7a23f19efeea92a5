// Light and dark palettes around the shop's accent colour. Text colours keep at
// least 4.5:1 contrast on their backgrounds (WCAG AA).
import type { AppConfig } from "../config";

export interface Theme {
  dark: boolean;
  background: string;
  surface: string;
  text: string;
  muted: string;
  border: string;
  accent: string;
  onAccent: string;
  userBubble: string;
  onUserBubble: string;
  botBubble: string;
  operatorBubble: string;
  danger: string;
}

export function themeFor(scheme: string | null | undefined, colors: AppConfig["colors"]): Theme {
  if (scheme === "dark") {
    return {
      dark: true,
      background: "#111318",
      surface: "#1c1f26",
      text: "#f1f3f7",
      muted: "#b4bac6",
      border: "#343a46",
      accent: colors.primaryDark,
      onAccent: "#0b0d12",
      userBubble: colors.primaryDark,
      onUserBubble: "#0b0d12",
      botBubble: "#262a33",
      operatorBubble: "#2f2a1c",
      danger: "#ff8a80",
    };
  }
  return {
    dark: false,
    background: "#f5f6f8",
    surface: "#ffffff",
    text: "#15181e",
    muted: "#555c69",
    border: "#d5d9e0",
    accent: colors.primary,
    onAccent: "#ffffff",
    userBubble: colors.primary,
    onUserBubble: "#ffffff",
    botBubble: "#ffffff",
    operatorBubble: "#fff6dc",
    danger: "#b3261e",
  };
}
