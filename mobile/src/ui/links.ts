import * as WebBrowser from "expo-web-browser";
import { Linking, Platform } from "react-native";

/** Payment and tracking links: the in-app browser on phones, a new tab on the web. */
export async function openLink(url: string): Promise<void> {
  if (!/^https?:\/\//i.test(url)) return;
  if (Platform.OS === "web") {
    await Linking.openURL(url);
    return;
  }
  await WebBrowser.openBrowserAsync(url);
}
