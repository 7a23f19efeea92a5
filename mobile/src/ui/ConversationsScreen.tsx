import { FlatList, Pressable, StyleSheet, Text, View } from "react-native";

import type { Conversation } from "../core/model";
import { useApp, useChatState } from "./context";

function titleOf(conversation: Conversation, fallback: string): string {
  const first = conversation.messages.find((m) => m.role === "user");
  return first && first.role === "user" ? first.text : fallback;
}

export function ConversationsScreen({ onOpen, onBack }: { onOpen: (id: string) => void; onBack: () => void }) {
  const { store, labels, theme } = useApp();
  const state = useChatState();
  const locale = labels.language === "ru" ? "ru-RU" : "en-US";
  return (
    <View style={[styles.screen, { backgroundColor: theme.background }]} testID="conversations-screen">
      <View style={[styles.header, { backgroundColor: theme.surface, borderColor: theme.border }]}>
        <Pressable onPress={onBack} accessibilityRole="button" accessibilityLabel={labels.backToChat} testID="back-to-chat" hitSlop={8}>
          <Text style={{ color: theme.accent, fontSize: 15 }}>‹ {labels.backToChat}</Text>
        </Pressable>
        <Text style={[styles.title, { color: theme.text }]} accessibilityRole="header">
          {labels.conversations}
        </Text>
      </View>
      <FlatList
        data={state.conversations}
        keyExtractor={(c) => c.id}
        contentContainerStyle={styles.list}
        renderItem={({ item }) => {
          const title = titleOf(item, labels.newConversation);
          const status = labels.conversationStatus[item.status];
          const when = new Date(item.updatedAt).toLocaleString(locale, { dateStyle: "short", timeStyle: "short" });
          return (
            <Pressable
              onPress={() => onOpen(item.id)}
              accessibilityRole="button"
              accessibilityLabel={`${title}. ${status}. ${labels.messagesCount(item.messages.length)}. ${when}`}
              style={[styles.item, { backgroundColor: theme.surface, borderColor: theme.border }]}
              testID="conversation-item"
            >
              <View style={styles.itemText}>
                <Text style={[styles.itemTitle, { color: theme.text }]} numberOfLines={1}>
                  {title}
                </Text>
                <Text style={{ color: theme.muted, fontSize: 13 }}>
                  {labels.messagesCount(item.messages.length)} · {when}
                </Text>
              </View>
              <Text
                style={[styles.badge, { color: item.status === "closed" ? theme.muted : theme.accent, borderColor: theme.border }]}
                testID={`conversation-status-${item.status}`}
              >
                {status}
              </Text>
            </Pressable>
          );
        }}
      />
      <View style={[styles.footer, { borderColor: theme.border, backgroundColor: theme.surface }]}>
        <Pressable
          onPress={() => {
            void store.startNewConversation().then(() => onBack());
          }}
          accessibilityRole="button"
          style={[styles.button, { backgroundColor: theme.accent }]}
          testID="start-new-conversation"
        >
          <Text style={{ color: theme.onAccent, fontSize: 15, fontWeight: "600" }}>{labels.newConversation}</Text>
        </Pressable>
      </View>
    </View>
  );
}

const styles = StyleSheet.create({
  screen: { flex: 1 },
  header: { paddingHorizontal: 16, paddingVertical: 10, borderBottomWidth: StyleSheet.hairlineWidth, gap: 4 },
  title: { fontSize: 18, fontWeight: "700" },
  list: { padding: 12, gap: 8 },
  item: { flexDirection: "row", alignItems: "center", padding: 12, borderRadius: 12, borderWidth: StyleSheet.hairlineWidth, minHeight: 56 },
  itemText: { flex: 1, marginRight: 8 },
  itemTitle: { fontSize: 16, fontWeight: "600" },
  badge: { fontSize: 13, borderWidth: 1, borderRadius: 10, paddingHorizontal: 8, paddingVertical: 2 },
  footer: { padding: 8, borderTopWidth: StyleSheet.hairlineWidth },
  button: { minHeight: 44, borderRadius: 22, justifyContent: "center", alignItems: "center" },
});
