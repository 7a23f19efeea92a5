import { Image, Pressable, StyleSheet, Text, View } from "react-native";

import type { Message, UserMessage } from "../core/model";
import { linkify } from "../core/protocol";
import { useApp } from "./context";
import { openLink } from "./links";

function statusLabel(status: UserMessage["status"], labels: ReturnType<typeof useApp>["labels"]): string {
  switch (status) {
    case "queued":
      return labels.statusQueued;
    case "sending":
      return labels.statusSending;
    case "sent":
      return labels.statusSent;
    case "failed":
      return labels.statusFailed;
  }
}

function LinkedText({ text, color, linkColor }: { text: string; color: string; linkColor: string }) {
  const { labels } = useApp();
  return (
    <Text style={[styles.text, { color }]} selectable>
      {linkify(text).map((span, index) =>
        span.url ? (
          <Text
            key={index}
            style={[styles.link, { color: linkColor }]}
            accessibilityRole="link"
            accessibilityLabel={labels.openLink(span.url)}
            onPress={() => void openLink(span.url as string)}
            testID="msg-link"
          >
            {span.text}
          </Text>
        ) : (
          span.text
        ),
      )}
    </Text>
  );
}

export function MessageBubble({ message, onRetry }: { message: Message; onRetry: (id: string) => void }) {
  const { labels, theme } = useApp();
  if (message.role === "system") {
    const text = message.event === "operator_joined" ? labels.operatorJoined(message.operator) : labels.operatorLeft;
    return (
      <View style={styles.systemRow} testID="msg-system" accessible accessibilityLabel={text}>
        <Text style={[styles.system, { color: theme.muted }]}>{text}</Text>
      </View>
    );
  }
  if (message.role === "user") {
    const status = statusLabel(message.status, labels);
    const failed = message.status === "failed";
    return (
      <View style={[styles.row, styles.userRow]}>
        <View
          style={[styles.bubble, { backgroundColor: theme.userBubble }]}
          testID="msg-user"
          accessible
          accessibilityLabel={`${labels.you}: ${message.text}. ${status}`}
        >
          <Text style={[styles.text, { color: theme.onUserBubble }]}>{message.text}</Text>
        </View>
        {failed ? (
          <Pressable
            onPress={() => onRetry(message.id)}
            accessibilityRole="button"
            accessibilityLabel={`${labels.statusFailed}. ${labels.retry}: ${message.text}`}
            testID="msg-retry"
            hitSlop={8}
          >
            <Text style={[styles.status, { color: theme.danger }]} testID="msg-status-failed">
              {status} · {labels.retry}
            </Text>
          </Pressable>
        ) : (
          <Text style={[styles.status, { color: theme.muted }]} testID={`msg-status-${message.status}`}>
            {status}
          </Text>
        )}
      </View>
    );
  }
  const fromOperator = Boolean(message.operator);
  const author = fromOperator ? `${labels.operator} ${message.operator}` : labels.assistant;
  return (
    <View style={styles.row} testID={fromOperator ? "msg-operator" : "msg-bot"}>
      {fromOperator ? <Text style={[styles.author, { color: theme.muted }]}>{author}</Text> : null}
      {message.image ? (
        <Image
          source={{ uri: message.image }}
          style={[styles.image, { borderColor: theme.border }]}
          resizeMode="cover"
          accessible
          accessibilityRole="image"
          accessibilityLabel={`${author}: ${labels.image}`}
          testID="msg-image"
        />
      ) : null}
      {message.text ? (
        <View
          style={[
            styles.bubble,
            { backgroundColor: fromOperator ? theme.operatorBubble : theme.botBubble, borderColor: theme.border },
            styles.botBubble,
          ]}
          accessible={!/https?:\/\//.test(message.text)}
          accessibilityLabel={`${author}: ${message.text}`}
        >
          <LinkedText text={message.text} color={theme.text} linkColor={theme.accent} />
        </View>
      ) : null}
    </View>
  );
}

const styles = StyleSheet.create({
  row: { marginVertical: 4, alignItems: "flex-start", maxWidth: "100%" },
  userRow: { alignItems: "flex-end" },
  bubble: { borderRadius: 16, paddingHorizontal: 12, paddingVertical: 8, maxWidth: "85%" },
  botBubble: { borderWidth: StyleSheet.hairlineWidth },
  text: { fontSize: 16, lineHeight: 22 },
  link: { textDecorationLine: "underline" },
  status: { fontSize: 12, marginTop: 2 },
  author: { fontSize: 12, marginBottom: 2 },
  image: { width: 220, height: 160, borderRadius: 12, borderWidth: StyleSheet.hairlineWidth, marginBottom: 4 },
  systemRow: { alignItems: "center", marginVertical: 6 },
  system: { fontSize: 13, textAlign: "center" },
});
