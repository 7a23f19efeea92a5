// Styles live inside the widget's Shadow DOM: the shop's CSS cannot reach them.
export const STYLES = `
:host { all: initial; }
* { box-sizing: border-box; font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
[hidden] { display: none !important; }
.ef-launcher {
  position: fixed; right: 20px; bottom: 20px; z-index: 2147483000;
  width: 60px; height: 60px; border-radius: 50%; border: none; cursor: pointer;
  background: #2563eb; color: #fff; box-shadow: 0 6px 20px rgba(0,0,0,.25);
  display: flex; align-items: center; justify-content: center;
}
.ef-launcher:hover { background: #1d4ed8; }
.ef-panel {
  position: fixed; right: 20px; bottom: 20px; z-index: 2147483001;
  width: 370px; height: 560px; max-height: calc(100vh - 40px);
  display: flex; flex-direction: column; overflow: hidden;
  background: #fff; color: #111827; border-radius: 14px;
  box-shadow: 0 12px 40px rgba(0,0,0,.28); font-size: 14px; line-height: 1.4;
}
.ef-header { display: flex; align-items: center; gap: 8px; padding: 12px 14px; background: #2563eb; color: #fff; }
.ef-heading { flex: 1; min-width: 0; }
.ef-title { font-weight: 600; font-size: 15px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.ef-status { font-size: 12px; }
.ef-status::before { content: ""; display: inline-block; width: 8px; height: 8px; border-radius: 50%; margin-right: 6px; background: #fbbf24; }
.ef-status[data-state="online"]::before { background: #4ade80; }
.ef-status[data-state="offline"]::before { background: #f87171; }
.ef-close { background: transparent; border: none; color: #fff; font-size: 26px; line-height: 1; cursor: pointer; padding: 0 4px; }
.ef-handoff { padding: 8px 14px; background: #fef3c7; color: #92400e; font-size: 13px; border-bottom: 1px solid #fde68a; }
.ef-log { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 8px; background: #f9fafb; }
.ef-log:focus-visible { outline: 2px solid #2563eb; outline-offset: -2px; }
.ef-msg { max-width: 85%; padding: 8px 12px; border-radius: 14px; white-space: pre-wrap; word-wrap: break-word; }
.ef-user { align-self: flex-end; background: #2563eb; color: #fff; border-bottom-right-radius: 4px; }
.ef-bot { align-self: flex-start; background: #fff; border: 1px solid #e5e7eb; border-bottom-left-radius: 4px; }
.ef-operator { border-color: #f59e0b; background: #fffbeb; }
.ef-author { font-size: 11px; font-weight: 600; color: #b45309; margin-bottom: 2px; }
.ef-system { align-self: center; background: transparent; color: #6b7280; font-size: 12px; text-align: center; }
.ef-intro { display: flex; flex-direction: column; gap: 8px; }
.ef-image img { max-width: 100%; border-radius: 8px; display: block; }
.ef-msg a { color: inherit; text-decoration: underline; }
.ef-typing { align-self: flex-start; display: flex; gap: 4px; padding: 10px 12px; background: #fff; border: 1px solid #e5e7eb; border-radius: 14px; }
.ef-typing span { width: 7px; height: 7px; border-radius: 50%; background: #9ca3af; animation: ef-blink 1.2s infinite ease-in-out; }
.ef-typing span:nth-child(2) { animation-delay: .2s; }
.ef-typing span:nth-child(3) { animation-delay: .4s; }
@keyframes ef-blink { 0%, 80%, 100% { opacity: .3; transform: translateY(0); } 40% { opacity: 1; transform: translateY(-3px); } }
.ef-chips { display: flex; flex-wrap: wrap; gap: 6px; padding: 0 12px; background: #f9fafb; }
.ef-chips:not(:empty) { padding: 4px 12px 10px; }
.ef-chip { border: 1px solid #2563eb; color: #2563eb; background: #fff; border-radius: 16px; padding: 6px 12px; font-size: 13px; cursor: pointer; }
.ef-chip:hover { background: #eff6ff; }
.ef-form { display: flex; gap: 8px; padding: 10px; border-top: 1px solid #e5e7eb; background: #fff; }
.ef-input { flex: 1; resize: none; border: 1px solid #d1d5db; border-radius: 10px; padding: 8px 10px; font-size: 14px; max-height: 96px; color: #111827; background: #fff; }
.ef-input:focus { outline: 2px solid #93c5fd; border-color: #2563eb; }
.ef-send { border: none; border-radius: 10px; padding: 0 14px; background: #2563eb; color: #fff; font-size: 14px; cursor: pointer; }
@media (max-width: 480px) {
  .ef-panel { right: 0; bottom: 0; width: 100vw; height: 100vh; height: 100dvh; max-height: none; border-radius: 0; }
  .ef-launcher { right: 14px; bottom: 14px; }
  .ef-input { font-size: 16px; }
}
`;
