// Small hand-written SVG charts: no chart library, readable by tests and screen readers.
import { channelColor } from "../format";

export interface DailyPoint {
  day: string;
  channel: string;
  conversations: number;
}

/** Every YYYY-MM-DD from start to end inclusive (at most 366 days). */
function daysBetween(start: string, end: string): string[] {
  const out: string[] = [];
  const day = new Date(`${start}T00:00:00Z`);
  const last = new Date(`${end}T00:00:00Z`);
  if (Number.isNaN(day.getTime()) || Number.isNaN(last.getTime())) return out;
  while (day <= last && out.length < 366) {
    out.push(day.toISOString().slice(0, 10));
    day.setUTCDate(day.getUTCDate() + 1);
  }
  return out;
}

/** What a screen reader is told instead of the picture: its name and the table's headers. */
export interface ChartLabels {
  title: string;
  day: string;
  total: string;
}

export function StackedDailyChart({
  rows,
  emptyText,
  labels,
  start,
  end,
}: {
  rows: DailyPoint[];
  emptyText: string;
  labels: ChartLabels;
  start?: string;
  end?: string;
}) {
  if (!rows.length) return <div className="empty">{emptyText}</div>;
  const range = start && end ? daysBetween(start, end) : [];
  const days = [...new Set([...range, ...rows.map((r) => r.day)])].sort();
  const channels = [...new Set(rows.map((r) => r.channel))].sort();
  const byDay = new Map<string, Map<string, number>>();
  for (const row of rows) {
    const m = byDay.get(row.day) ?? new Map<string, number>();
    m.set(row.channel, (m.get(row.channel) ?? 0) + row.conversations);
    byDay.set(row.day, m);
  }
  const totals = days.map((d) => [...(byDay.get(d)?.values() ?? [])].reduce((a, b) => a + b, 0));
  const max = Math.max(1, ...totals);
  const width = 720;
  const height = 240;
  const padLeft = 36;
  const padBottom = 28;
  const plotW = width - padLeft - 8;
  const plotH = height - padBottom - 10;
  const slot = plotW / days.length;
  const barW = Math.max(4, Math.min(36, slot * 0.7));
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => Math.round(max * f));
  const labelEvery = Math.ceil(days.length / 10);
  const total = totals.reduce((a, b) => a + b, 0);
  const perChannel = channels.map((c) => `${c} ${rows.filter((r) => r.channel === c).reduce((a, r) => a + r.conversations, 0)}`);

  return (
    <div className="chart" data-testid="daily-chart" data-total={total}>
      <svg
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={`${labels.title}. ${labels.total}: ${total} (${perChannel.join(", ")})`}
        className="svg-chart"
      >
        {[...new Set(ticks)].map((tick) => {
          const y = 10 + plotH - (tick / max) * plotH;
          return (
            <g key={tick}>
              <line x1={padLeft} x2={width - 8} y1={y} y2={y} className="grid" />
              <text x={padLeft - 6} y={y + 4} textAnchor="end" className="axis">
                {tick}
              </text>
            </g>
          );
        })}
        {days.map((day, i) => {
          let y = 10 + plotH;
          const x = padLeft + i * slot + (slot - barW) / 2;
          return (
            <g key={day} data-day={day} data-total={totals[i]}>
              {channels.map((channel) => {
                const value = byDay.get(day)?.get(channel) ?? 0;
                if (!value) return null;
                const h = (value / max) * plotH;
                y -= h;
                return (
                  <rect key={channel} x={x} y={y} width={barW} height={h} fill={channelColor(channel)}>
                    <title>{`${day} · ${channel}: ${value}`}</title>
                  </rect>
                );
              })}
              {(i % labelEvery === 0 || i === days.length - 1) && (
                <text x={x + barW / 2} y={height - 10} textAnchor="middle" className="axis">
                  {day.slice(5)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      {/* The text alternative: the days with conversations, per channel. */}
      <table className="sr-only">
        <caption>{labels.title}</caption>
        <thead>
          <tr>
            <th scope="col">{labels.day}</th>
            {channels.map((c) => (
              <th scope="col" key={c}>
                {c}
              </th>
            ))}
            <th scope="col">{labels.total}</th>
          </tr>
        </thead>
        <tbody>
          {days.map((day, i) =>
            totals[i] ? (
              <tr key={day}>
                <th scope="row">{day}</th>
                {channels.map((c) => (
                  <td key={c}>{byDay.get(day)?.get(c) ?? 0}</td>
                ))}
                <td>{totals[i]}</td>
              </tr>
            ) : null,
          )}
        </tbody>
      </table>
      <div className="legend" aria-hidden="true">
        {channels.map((c) => (
          <span key={c} className="legend-item">
            <i style={{ background: channelColor(c) }} />
            {c}
          </span>
        ))}
      </div>
    </div>
  );
}

export interface BarItem {
  label: string;
  value: number;
  display: string;
  color?: string;
  hint?: string;
}

/** Horizontal bars; `max` fixes the scale (1 for rates). */
export function HBarChart({ items, max, testId, emptyText }: { items: BarItem[]; max?: number; testId: string; emptyText: string }) {
  if (!items.length) return <div className="empty">{emptyText}</div>;
  const top = max ?? Math.max(1, ...items.map((i) => i.value));
  return (
    <div className="hbars" data-testid={testId}>
      {items.map((item) => (
        <div className="hbar" key={item.label} data-label={item.label} title={item.hint}>
          <div className="hbar-label">{item.label}</div>
          <div className="hbar-track">
            <div
              className="hbar-fill"
              style={{ width: `${Math.min(100, (item.value / top) * 100)}%`, background: item.color ?? "#2563eb" }}
            />
          </div>
          <div className="hbar-value">{item.display}</div>
        </div>
      ))}
    </div>
  );
}
