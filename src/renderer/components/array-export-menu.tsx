/**
 * "h5 / mat ▾" in the tool bar: the visible slice and the whole J as HDF5 (.h5, one dataset with its axis names)
 * or MATLAB v5 .mat. A disclosure like the data menu (Escape or a click elsewhere closes it).
 */
import { useEffect, useId, useRef, useState } from 'react';
import { exportJ } from '../store/actions';
import type { ExportWhat } from '../worker/protocol';

const ITEMS: { what: ExportWhat; label: string; title: string }[] = [
  {
    what: 'slice-h5',
    label: 'slice .h5',
    title: 'the visible slice as HDF5 (dataset J_slice, axis names attached)',
  },
  { what: 'slice-mat', label: 'slice .mat', title: 'the visible slice as MATLAB v5 .mat (variable J_slice)' },
  { what: 'full-h5', label: 'J .h5', title: 'the whole J as HDF5 (dataset J, axes B,T,O,P attached)' },
  { what: 'full-mat', label: 'J .mat', title: 'the whole J as MATLAB v5 .mat (variable J)' },
];

export function ArrayExportMenu({ disabled }: { disabled: boolean }) {
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
    if (disabled) setOpen(false);
  }, [disabled]);
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
        disabled={disabled}
        data-testid="export-arrays"
        aria-expanded={open}
        aria-controls={menuId}
        aria-label="export J as HDF5 or MATLAB"
        title="export the slice or the whole J as HDF5 (.h5) or MATLAB (.mat)"
        onClick={() => setOpen((o) => !o)}
      >
        h5 / mat ▾
      </button>
      {open && (
        <div className="data-export-menu" id={menuId} role="group" aria-label="HDF5 and MATLAB exports">
          {ITEMS.map((d) => (
            <button
              key={d.what}
              type="button"
              data-testid={`export-${d.what}`}
              title={d.title}
              onClick={() => {
                setOpen(false);
                buttonRef.current?.focus();
                void exportJ(d.what);
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
