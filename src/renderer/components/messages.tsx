/** Messages about loads and exports: a list in the side bar, and a card next to where files were dropped. */
import { useStore, dismissGroup, dismissMessage } from '../store';
import type { UiMessage } from '../store';

const ICON = { error: '⚠', warning: '!', info: 'i' } as const;

function Line({ m, onClose }: { m: UiMessage; onClose?: () => void }) {
  return (
    <li className={`msg ${m.level}`} data-testid={`message-${m.level}`}>
      <span className="icon" aria-hidden>
        {ICON[m.level]}
      </span>
      <span className="text">{m.text}</span>
      {onClose && (
        <button type="button" className="close" aria-label="dismiss" onClick={onClose}>
          ×
        </button>
      )}
    </li>
  );
}

export function MessageList() {
  const messages = useStore((s) => s.messages);
  if (messages.length === 0) return null;
  return (
    <section className="panel">
      <h2>Messages</h2>
      <ul className="messages" data-testid="message-list">
        {[...messages].reverse().map((m) => (
          <Line key={m.id} m={m} onClose={() => dismissMessage(m.id)} />
        ))}
      </ul>
    </section>
  );
}

/** Cards at the drop points: the messages of each drop, next to where it happened. */
export function DropNotes() {
  const messages = useStore((s) => s.messages);
  const groups = new Map<number, UiMessage[]>();
  for (const m of messages) if (m.anchor) groups.set(m.group, [...(groups.get(m.group) ?? []), m]);
  return (
    <>
      {[...groups.entries()].map(([g, list]) => {
        const a = list[0].anchor!;
        const vw = typeof window !== 'undefined' ? window.innerWidth : 1200;
        const vh = typeof window !== 'undefined' ? window.innerHeight : 800;
        const left = Math.max(8, Math.min(a.x + 12, vw - 420));
        const top = Math.max(8, Math.min(a.y + 12, vh - 160));
        const worst = list.some((m) => m.level === 'error')
          ? 'error'
          : list.some((m) => m.level === 'warning')
            ? 'warning'
            : 'info';
        return (
          <div
            className={`drop-note ${worst}`}
            key={g}
            style={{ left, top }}
            role="alert"
            data-testid="drop-note"
          >
            <button type="button" className="close" aria-label="dismiss" onClick={() => dismissGroup(g)}>
              ×
            </button>
            <ul>
              {list.map((m) => (
                <Line key={m.id} m={m} />
              ))}
            </ul>
          </div>
        );
      })}
    </>
  );
}
