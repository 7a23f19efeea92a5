import { createContext, useContext, useSyncExternalStore } from "react";

import type { AppConfig } from "../config";
import type { ChatState, ChatStore } from "../core/chatStore";
import type { Labels } from "../core/i18n";
import type { Theme } from "./theme";

export interface AppContextValue {
  store: ChatStore;
  labels: Labels;
  theme: Theme;
  config: AppConfig;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (!value) throw new Error("AppContext missing");
  return value;
}

export function useChatState(): ChatState {
  const { store } = useApp();
  return useSyncExternalStore(store.subscribe, store.getState, store.getState);
}
