/** The kind of an export file for the host's save dialog, by its extension. */
import type { SaveKind } from '../../preload/contract';

const KINDS: Record<string, SaveKind> = {
  csv: 'csv',
  npy: 'npy',
  png: 'png',
  json: 'json',
  h5: 'h5',
  mat: 'mat',
};

export function saveKindOf(name: string): SaveKind {
  const ext = name.toLowerCase().split('.').pop() ?? '';
  return KINDS[ext] ?? 'npy';
}
