/** The application menu, as a plain template (tested without Electron). */
import type { MenuItemConstructorOptions } from 'electron';
import type { MenuCommand } from '../preload/contract';

export interface MenuActions {
  open(): void;
  openRecent(path: string): void;
  clearRecent(): void;
  command(c: MenuCommand): void;
}

function basename(p: string): string {
  return p.split(/[\\/]/).pop() ?? p;
}

export function menuTemplate(
  actions: MenuActions,
  recent: readonly string[],
  opts: { mac: boolean; dev: boolean },
): MenuItemConstructorOptions[] {
  const recentItems: MenuItemConstructorOptions[] = recent.length
    ? [
        ...recent.map((p) => ({
          label: basename(p),
          sublabel: p,
          toolTip: p,
          click: () => actions.openRecent(p),
        })),
        { type: 'separator' as const },
        { label: 'Clear Recent', click: () => actions.clearRecent() },
      ]
    : [{ label: 'No recent files', enabled: false }];
  const file: MenuItemConstructorOptions = {
    label: 'File',
    submenu: [
      { label: 'Open…', accelerator: 'CmdOrCtrl+O', click: () => actions.open() },
      { label: 'Open Recent', submenu: recentItems },
      { type: 'separator' },
      {
        label: 'Export',
        submenu: [
          {
            label: 'Visible slice as CSV…',
            accelerator: 'CmdOrCtrl+E',
            click: () => actions.command('export-slice-csv'),
          },
          { label: 'Visible slice as .npy…', click: () => actions.command('export-slice-npy') },
          { label: 'Visible slice as HDF5 .h5…', click: () => actions.command('export-slice-h5') },
          { label: 'Visible slice as MATLAB .mat…', click: () => actions.command('export-slice-mat') },
          { type: 'separator' },
          { label: 'Whole J as .npy…', click: () => actions.command('export-full-npy') },
          { label: 'Whole J as long-format CSV…', click: () => actions.command('export-full-csv') },
          { label: 'Whole J as HDF5 .h5…', click: () => actions.command('export-full-h5') },
          { label: 'Whole J as MATLAB .mat…', click: () => actions.command('export-full-mat') },
          { type: 'separator' },
          { label: 'Heatmap as PNG…', click: () => actions.command('export-heatmap-png') },
          { label: 'Line plot as PNG…', click: () => actions.command('export-plot-png') },
        ],
      },
      { type: 'separator' },
      opts.mac ? { role: 'close' } : { role: 'quit' },
    ],
  };
  const view: MenuItemConstructorOptions = {
    label: 'View',
    submenu: [
      ...(opts.dev
        ? ([
            { role: 'reload' },
            { role: 'toggleDevTools' },
            { type: 'separator' },
          ] as MenuItemConstructorOptions[])
        : []),
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      { type: 'separator' },
      { role: 'togglefullscreen' },
    ],
  };
  return [
    ...(opts.mac ? [{ role: 'appMenu' as const }] : []),
    file,
    { role: 'editMenu' },
    view,
    { role: 'windowMenu' },
  ];
}
