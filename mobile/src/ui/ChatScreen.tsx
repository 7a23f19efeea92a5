import { useEffect, useRef, useState } from "react";
import { AccessibilityInfo, FlatList, KeyboardAvoidingView, Platform, Pressable, StyleSheet, Text, TextInput, View } from "react-native";

import { pendingButtons, type Message } from "../core/model";
import { useApp, useChatState } from "./context";
import { MessageBubble } from "./MessageBubble";

export function ChatScreen({ conversationId, onOpenConversations }: { conversationId: string; onOpenConversations: () => void }) {
  const { store, labels, theme, config } = useApp();
  const state = useChatState();
  const [draft, setDraft] = useState("");
  const list = useRef<FlatList<Message>>(null);
  const conversation = state.conversations.find((c) => c.id === conversationId);
  const live = conversation !== undefined && conversation.id === state.activeId && conversation.status !== "closed";
  const buttons = live ? pendingButtons(conversation) : [];
  const messages = conversation?.messages ?? [];

  // Screen readers hear new answers without leaving the text field (iOS has no
  // live regions; Android's accessibilityLiveRegion covers the status line).
  const newest = messages[messages.length - 1];
  const announced = useRef(newest?.id);
  useEffect(() => {
    if (!newest || newest.id === announced.current) return;
    announced.current = newest.id;
    if (newest.role === "bot" && newest.text) {
      AccessibilityInfo.announceForAccessibility(newest.operator ? `${labels.operator} ${newest.operator}: ${newest.text}` : newest.text);
    }
  }, [newest, labels]);

  const connection =
    state.connection === "online" ? labels.online : state.connection === "connecting" ? labels.connecting : labels.offline;
  const statusLine =
    live && conversation?.status === "operator" ? labels.operatorJoined(conversation.operator) : live ? connection : labels.closedNotice;

  const submit = () => {
    const text = draft.trim();
    if (!text) return;
    setDraft("");
    store.send(text);
  };

  return (
    <KeyboardAvoidingView
      style={[styles.screen, { backgroundColor: theme.background }]}
      behavior={Platform.OS === "ios" ? "padding" : undefined}
      testID="chat-screen"
    >
      <View style={[styles.header, { backgroundColor: theme.surface, borderColor: theme.border }]}>
        <View style={styles.heading}>
          <Text style={[styles.title, { color: theme.text }]} accessibilityRole="header" numberOfLines={1}>
            {config.shopName}
          </Text>
          <Text
            style={[styles.subtitle, { color: theme.muted }]}
            testID="connection-status"
            accessibilityLiveRegion="polite"
            {...{ dataSet: { state: live ? state.connection : "closed" } }}
          >
            {statusLine}
          </Text>
        </View>
        <Pressable
          onPress={onOpenConversations}
          accessibilityRole="button"
          accessibilityLabel={labels.conversations}
          style={[styles.headerButton, { borderColor: theme.border }]}
          testID="open-conversations"
          hitSlop={8}
        >
          <Text style={{ color: theme.accent, fontSize: 15 }}>{labels.conversations}</Text>
        </Pressable>
      </View>
      <FlatList
        ref={list}
        style={styles.list}
        contentContainerStyle={styles.listContent}
        data={messages}
        keyExtractor={(m) => m.id}
        renderItem={({ item }) => <MessageBubble message={item} onRetry={(id) => store.retry(id)} />}
        testID="message-list"
        onContentSizeChange={() => list.current?.scrollToEnd({ animated: true })}
        ListEmptyComponent={<Text style={[styles.empty, { color: theme.muted }]}>{labels.emptyConversation}</Text>}
        ListFooterComponent={
          live && state.typing ? (
            <View style={[styles.typing, { backgroundColor: theme.botBubble, borderColor: theme.border }]} testID="typing" accessible accessibilityLabel={labels.typing}>
              <Text style={{ color: theme.muted }}>{labels.typing}</Text>
            </View>
          ) : null
        }
      />
      {buttons.length ? (
        <View style={styles.replies} testID="quick-replies">
          {buttons.map((reply) => (
            <Pressable
              key={`${reply.payload}-${reply.title}`}
              onPress={() => store.pressButton(reply)}
              accessibilityRole="button"
              accessibilityLabel={reply.title}
              style={[styles.reply, { borderColor: theme.accent }]}
              testID="quick-reply"
            >
              <Text style={{ color: theme.accent, fontSize: 15 }}>{reply.title}</Text>
            </Pressable>
          ))}
        </View>
      ) : null}
      {live ? (
        <View style={[styles.composer, { backgroundColor: theme.surface, borderColor: theme.border }]}>
          <TextInput
            value={draft}
            onChangeText={setDraft}
            onSubmitEditing={submit}
            placeholder={labels.placeholder}
            placeholderTextColor={theme.muted}
            accessibilityLabel={labels.placeholder}
            style={[styles.input, { color: theme.text, borderColor: theme.border, backgroundColor: theme.background }]}
            returnKeyType="send"
            submitBehavior="submit"
            multiline={false}
            testID="chat-input"
          />
          <Pressable
            onPress={submit}
            accessibilityRole="button"
            accessibilityLabel={labels.send}
            accessibilityState={{ disabled: draft.trim() === "" }}
            style={[styles.send, { backgroundColor: theme.accent }]}
            testID="send"
          >
            <Text style={{ color: theme.onAccent, fontSize: 15, fontWeight: "600" }}>{labels.send}</Text>
          </Pressable>
        </View>
      ) : (
        <View style={[styles.composer, { backgroundColor: theme.surface, borderColor: theme.border }]}>
          <Pressable
            onPress={() => void store.startNewConversation()}
            accessibilityRole="button"
            style={[styles.send, styles.wide, { backgroundColor: theme.accent }]}
            testID="new-conversation"
          >
            <Text style={{ color: theme.onAccent, fontSize: 15, fontWeight: "600" }}>{labels.newConversation}</Text>
          </Pressable>
        </View>
      )}
    </KeyboardAvoidingView>
  );
}

const styles = StyleSheet.create({
  screen: { flex: 1 },
  header: { flexDirection: "row", alignItems: "center", paddingHorizontal: 16, paddingVertical: 10, borderBottomWidth: StyleSheet.hairlineWidth },
  heading: { flex: 1 },
  title: { fontSize: 18, fontWeight: "700" },
  subtitle: { fontSize: 13, marginTop: 2 },
  headerButton: { paddingHorizontal: 10, paddingVertical: 6, borderRadius: 8, borderWidth: StyleSheet.hairlineWidth, marginLeft: 8 },
  list: { flex: 1 },
  listContent: { padding: 12 },
  empty: { textAlign: "center", marginTop: 32, fontSize: 15, paddingHorizontal: 24 },
  typing: { alignSelf: "flex-start", borderRadius: 16, paddingHorizontal: 12, paddingVertical: 8, borderWidth: StyleSheet.hairlineWidth, marginVertical: 4 },
  replies: { flexDirection: "row", flexWrap: "wrap", paddingHorizontal: 12, paddingBottom: 6, gap: 8 },
  reply: { borderWidth: 1, borderRadius: 18, paddingHorizontal: 14, paddingVertical: 8, minHeight: 44, justifyContent: "center" },
  composer: { flexDirection: "row", alignItems: "center", padding: 8, borderTopWidth: StyleSheet.hairlineWidth, gap: 8 },
  input: { flex: 1, minHeight: 44, borderWidth: 1, borderRadius: 22, paddingHorizontal: 14, fontSize: 16 },
  send: { minHeight: 44, paddingHorizontal: 16, borderRadius: 22, justifyContent: "center", alignItems: "center" },
  wide: { flex: 1 },
});
