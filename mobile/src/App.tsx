import * as Network from "expo-network";
import { StatusBar } from "expo-status-bar";
import { useEffect, useMemo, useState } from "react";
import { AppState, StyleSheet, Text, useColorScheme, View } from "react-native";
import { SafeAreaProvider, SafeAreaView } from "react-native-safe-area-context";

import { readConfig, type AppConfig } from "./config";
import { ChatStore } from "./core/chatStore";
import { historyStorage, secretStorage } from "./core/deviceStorage";
import { deviceLabels, type Labels } from "./core/i18n";
import { ChatScreen } from "./ui/ChatScreen";
import { ConversationsScreen } from "./ui/ConversationsScreen";
import { AppContext, useChatState } from "./ui/context";
import { themeFor } from "./ui/theme";

type Screen = { name: "chat"; conversationId: string | null } | { name: "conversations" };

/** The two screens around one store; a state-based navigator is all the app needs. */
export function ChatApp({ store, labels, config }: { store: ChatStore; labels: Labels; config: AppConfig }) {
  const scheme = useColorScheme();
  const theme = useMemo(() => themeFor(scheme, config.colors), [scheme, config.colors]);
  const value = useMemo(() => ({ store, labels, theme, config }), [store, labels, theme, config]);
  return (
    <AppContext.Provider value={value}>
      <StatusBar style={theme.dark ? "light" : "dark"} />
      <SafeAreaView style={[styles.fill, { backgroundColor: theme.surface }]} edges={["top", "bottom"]}>
        <Screens />
      </SafeAreaView>
    </AppContext.Provider>
  );
}

function Screens() {
  const state = useChatState();
  const [screen, setScreen] = useState<Screen>({ name: "chat", conversationId: null });
  if (!state.loaded) return null;
  if (screen.name === "conversations") {
    return (
      <ConversationsScreen
        onOpen={(id) => setScreen({ name: "chat", conversationId: id })}
        onBack={() => setScreen({ name: "chat", conversationId: null })}
      />
    );
  }
  const conversationId = screen.conversationId ?? state.activeId;
  if (!conversationId) return null;
  return <ChatScreen conversationId={conversationId} onOpenConversations={() => setScreen({ name: "conversations" })} />;
}

function ConfigError({ problem }: { problem: string }) {
  const labels = deviceLabels();
  return (
    <View style={[styles.fill, styles.center]} accessibilityRole="alert">
      <Text style={styles.errorTitle}>{labels.configError}</Text>
      <Text style={styles.errorText}>{problem}</Text>
    </View>
  );
}

/** Registers the push token once per confirmed session, if an endpoint is configured. */
function pushRegistration(endpoint: string | null): ((sessionId: string) => void) | undefined {
  if (!endpoint) return undefined;
  const done = new Set<string>();
  return (sessionId) => {
    if (done.has(sessionId)) return;
    done.add(sessionId);
    void import("./push").then(({ registerForPushNotifications }) => registerForPushNotifications(endpoint, sessionId));
  };
}

export default function App() {
  const result = useMemo(() => readConfig(), []);
  const labels = useMemo(() => deviceLabels(), []);
  const store = useMemo(
    () =>
      result.ok
        ? new ChatStore({
            url: result.config.rasaUrl,
            path: result.config.socketPath,
            storage: historyStorage,
            secrets: secretStorage,
            onSession: pushRegistration(result.config.pushRegisterUrl),
          })
        : null,
    [result],
  );

  useEffect(() => {
    if (!store) return undefined;
    void store.load();
    // Reconnect at once when the network or the app comes back, not at the
    // next backoff step; the offline queue then goes out in order.
    const network = Network.addNetworkStateListener((event) => {
      if (event.isConnected === false) store.networkLost();
      else if (event.isConnected && event.isInternetReachable !== false) store.networkRestored();
    });
    const appState = AppState.addEventListener("change", (next) => {
      if (next === "active") store.networkRestored();
    });
    return () => {
      network.remove();
      appState.remove();
      store.stop();
    };
  }, [store]);

  return (
    <SafeAreaProvider>
      {result.ok && store ? <ChatApp store={store} labels={labels} config={result.config} /> : null}
      {!result.ok ? <ConfigError problem={result.problem} /> : null}
    </SafeAreaProvider>
  );
}

const styles = StyleSheet.create({
  fill: { flex: 1 },
  center: { alignItems: "center", justifyContent: "center", padding: 24 },
  errorTitle: { fontSize: 18, fontWeight: "700", marginBottom: 8 },
  errorText: { fontSize: 15, textAlign: "center" },
});
