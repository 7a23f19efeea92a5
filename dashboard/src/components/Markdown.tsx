// A preview of the knowledge base's markdown, built as React elements: text
// is only ever text (React escapes it), so a document holding <script> or an
// <img onerror> shows those characters and runs nothing. No raw HTML, no
// links (a javascript: URL cannot sneak in): headings, paragraphs, lists,
// bold, italic and inline code, which is what the knowledge files use.
import type { ReactNode } from "react";

const INLINE = /(\*\*[^*]+\*\*|`[^`]+`|\*[^*\s][^*]*\*|_[^_\s][^_]*_)/g;

function inline(text: string, key: string): ReactNode[] {
  return text.split(INLINE).map((part, i) => {
    const k = `${key}-${i}`;
    if (part.startsWith("**") && part.endsWith("**") && part.length > 4) return <strong key={k}>{part.slice(2, -2)}</strong>;
    if (part.startsWith("`") && part.endsWith("`") && part.length > 2) return <code key={k}>{part.slice(1, -1)}</code>;
    if (/^([*_]).+\1$/.test(part)) return <em key={k}>{part.slice(1, -1)}</em>;
    return part;
  });
}

type Block =
  | { kind: "heading"; level: number; text: string }
  | { kind: "list"; ordered: boolean; items: string[] }
  | { kind: "paragraph"; lines: string[] };

export function blocks(source: string): Block[] {
  const result: Block[] = [];
  let paragraph: string[] | null = null;
  let list: { ordered: boolean; items: string[] } | null = null;
  const flush = () => {
    if (paragraph) result.push({ kind: "paragraph", lines: paragraph });
    if (list) result.push({ kind: "list", ...list });
    paragraph = null;
    list = null;
  };
  for (const line of source.replace(/\r\n?/g, "\n").split("\n")) {
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    const bullet = /^\s*[-*+]\s+(.*)$/.exec(line);
    const numbered = /^\s*\d+[.)]\s+(.*)$/.exec(line);
    if (heading) {
      flush();
      result.push({ kind: "heading", level: heading[1].length, text: heading[2].trim() });
    } else if (bullet || numbered) {
      const ordered = !bullet;
      if (paragraph || (list && list.ordered !== ordered)) flush();
      list = list ?? { ordered, items: [] };
      list.items.push((bullet ?? numbered)![1]);
    } else if (!line.trim()) {
      flush();
    } else {
      if (list) flush();
      paragraph = paragraph ?? [];
      paragraph.push(line.trim());
    }
  }
  flush();
  return result;
}

export function Markdown({ source, testId }: { source: string; testId?: string }) {
  return (
    <div className="markdown" data-testid={testId}>
      {blocks(source).map((block, i) => {
        const key = `b${i}`;
        if (block.kind === "heading") {
          const Tag = (["h2", "h3", "h4"] as const)[Math.min(block.level, 3) - 1];
          return <Tag key={key}>{inline(block.text, key)}</Tag>;
        }
        if (block.kind === "list") {
          const items = block.items.map((item, j) => <li key={`${key}-${j}`}>{inline(item, `${key}-${j}`)}</li>);
          return block.ordered ? <ol key={key}>{items}</ol> : <ul key={key}>{items}</ul>;
        }
        return <p key={key}>{inline(block.lines.join(" "), key)}</p>;
      })}
    </div>
  );
}
