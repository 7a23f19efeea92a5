import { useEffect, useState } from "react";

/** The route in the address bar right now (its hashchange may not have been handled yet). */
export function readRoute(): string[] {
  return window.location.hash.replace(/^#\/?/, "").split("?")[0].split("/").filter(Boolean).map(decodeURIComponent);
}

// Hash routing (#/overview, #/conversations/12): works behind any static server.
export function useRoute(): string[] {
  const read = readRoute;
  const [parts, setParts] = useState<string[]>(read);
  useEffect(() => {
    const onChange = () => setParts(read());
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return parts;
}

export function navigate(path: string): void {
  window.location.hash = path.startsWith("/") ? path : `/${path}`;
}
