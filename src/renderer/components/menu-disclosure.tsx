/**
 * A tool-bar disclosure ("data ▾", "h5 / mat ▾"): a button that opens a group of item buttons; Escape or
 * a click elsewhere closes it, and choosing an item closes it and returns focus to the button.
 */
import { useEffect, useId, useRef, useState } from 'react';

export interface MenuItem {
  id: string;
  label: string;
  title: string;
  disabled?: boolean;
}

export function MenuDisclosure(props: {
  label: string;
  testId: string;
  ariaLabel: string;
  title: string;
  groupLabel: string;
  disabled: boolean;
  items: readonly MenuItem[];
  onChoose(id: string): void;
}) {
  const [open, setOpen] = useState(false);
  const rootRef = useRef<HTMLDivElement>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const menuId = useId();
  useEffect(() => {
    if (!open) return;
    const onDown = (e: PointerEvent) => {
      if (!rootRef.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('pointerdown', onDown);
    return () => document.removeEventListener('pointerdown', onDown);
  }, [open]);
  useEffect(() => {
    if (props.disabled) setOpen(false);
  }, [props.disabled]);
  return (
    <div
      className="data-export"
      ref={rootRef}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && open) {
          e.stopPropagation();
          setOpen(false);
          buttonRef.current?.focus();
        }
      }}
    >
      <button
        type="button"
        ref={buttonRef}
        disabled={props.disabled}
        data-testid={props.testId}
        aria-expanded={open}
        aria-controls={menuId}
        aria-label={props.ariaLabel}
        title={props.title}
        onClick={() => setOpen((o) => !o)}
      >
        {props.label}
      </button>
      {open && (
        <div className="data-export-menu" id={menuId} role="group" aria-label={props.groupLabel}>
          {props.items.map((d) => (
            <button
              key={d.id}
              type="button"
              data-testid={`export-${d.id}`}
              title={d.title}
              disabled={d.disabled}
              onClick={() => {
                setOpen(false);
                buttonRef.current?.focus();
                props.onChoose(d.id);
              }}
            >
              {d.label}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
