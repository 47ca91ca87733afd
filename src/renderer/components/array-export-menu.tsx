/**
 * "h5 / mat ▾" in the tool bar: the visible slice and the whole J as HDF5 (.h5, one dataset with its axis names)
 * or MATLAB v5 .mat.
 */
import { exportJ } from '../store/actions';
import type { ExportWhat } from '../worker/protocol';
import { MenuDisclosure } from './menu-disclosure';

const ITEMS: { what: ExportWhat; label: string; title: string }[] = [
  {
    what: 'slice-h5',
    label: 'slice .h5',
    title: 'the visible slice as HDF5 (dataset J_slice, axis names attached)',
  },
  { what: 'slice-mat', label: 'slice .mat', title: 'the visible slice as MATLAB v5 .mat (variable J_slice)' },
  { what: 'full-h5', label: 'J .h5', title: 'the whole J as HDF5 (dataset J, axes B,T,O,P attached)' },
  {
    what: 'full-mat',
    label: 'J .mat',
    title: 'the whole J as MATLAB .mat (variable J; v7.3 when written to disk in parts)',
  },
];

export function ArrayExportMenu({ disabled }: { disabled: boolean }) {
  return (
    <MenuDisclosure
      label="h5 / mat ▾"
      testId="export-arrays"
      ariaLabel="export J as HDF5 or MATLAB"
      title="export the slice or the whole J as HDF5 (.h5) or MATLAB (.mat)"
      groupLabel="HDF5 and MATLAB exports"
      disabled={disabled}
      items={ITEMS.map((d) => ({ id: d.what, label: d.label, title: d.title }))}
      onChoose={(id) => void exportJ(id as ExportWhat)}
    />
  );
}
