import { useEffect, useState } from "react";
import { blobUrl, get, type ShopperAttachment } from "../api";
import { num } from "../format";
import { useLoad } from "../hooks";
import { useI18n, type Dict } from "../i18n";

function linkedTo(t: Dict, item: ShopperAttachment): string {
  if (item.return_id) return `${t.attachmentOnReturn} ${item.return_id} (${item.order_id ?? "—"})`;
  if (item.order_id) return `${t.attachmentOnOrder} ${item.order_id}`;
  return t.attachmentUnlinked;
}

/** One photo (a thumbnail) or file (a link), fetched with the session's token. */
function AttachmentItem({ item }: { item: ShopperAttachment }) {
  const { t, lang } = useI18n();
  const [url, setUrl] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let revoked = false;
    let made: string | null = null;
    blobUrl(`/api/attachments/${encodeURIComponent(item.id)}`).then(
      (value) => {
        made = value;
        if (revoked) URL.revokeObjectURL(value);
        else setUrl(value);
      },
      (err: Error) => setError(err.message),
    );
    return () => {
      revoked = true;
      if (made) URL.revokeObjectURL(made);
    };
  }, [item.id]);
  const size = item.size < 1024 ? `${item.size} B` : `${num(item.size / 1024, 0)} KB`;
  const caption = `${linkedTo(t, item)} · ${item.channel} · ${size}`;
  return (
    <figure className="attachment" data-testid="attachment" data-return={item.return_id ?? ""}>
      {error && <div className="error">{error}</div>}
      {url && item.mime_type.startsWith("image/") && (
        <a href={url} target="_blank" rel="noreferrer">
          <img src={url} alt={`${item.kind} ${item.id}`} />
        </a>
      )}
      {url && !item.mime_type.startsWith("image/") && (
        <a href={url} target="_blank" rel="noreferrer">
          {t.attachmentOpen} ({item.mime_type})
        </a>
      )}
      <figcaption className="small">
        {caption}
        {item.created_at && <span className="muted"> · {new Date(item.created_at).toLocaleString(lang)}</span>}
      </figcaption>
    </figure>
  );
}

/** What the conversation's shopper sent: photos and files, with the return or
 * order each is attached to. */
export function Attachments({ conversationId }: { conversationId: string }) {
  const { t } = useI18n();
  const { data, error } = useLoad(
    () => get<ShopperAttachment[]>(`/api/conversations/${encodeURIComponent(conversationId)}/attachments`),
    [conversationId],
  );
  if (error) return <div className="error">{error}</div>;
  if (!data || data.length === 0) return null;
  return (
    <section className="card" aria-labelledby="attachments-title" data-testid="attachments">
      <h2 id="attachments-title">{t.attachments}</h2>
      <div className="attachments">
        {data.map((item) => (
          <AttachmentItem item={item} key={item.id} />
        ))}
      </div>
    </section>
  );
}
