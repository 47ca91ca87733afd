import { resolve } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { APP_INDEX_URL, appHeaders, resolveAppFile } from '../../src/main/app-protocol';
import { cspString } from '../../src/main/csp';
import { menuTemplate } from '../../src/main/menu';
import type { MenuItemConstructorOptions } from 'electron';

const root = resolve('/srv/app/out/renderer');

describe('app:// protocol', () => {
  it('serves files under the renderer folder', () => {
    expect(resolveAppFile(APP_INDEX_URL, root)).toBe(resolve(root, 'index.html'));
    expect(resolveAppFile('app://jacscope/', root)).toBe(resolve(root, 'index.html'));
    expect(resolveAppFile('app://jacscope/assets/engine.worker-abc.js', root)).toBe(
      resolve(root, 'assets/engine.worker-abc.js'),
    );
  });

  it.each([
    'app://jacscope/../main/index.js',
    'app://jacscope/%2e%2e/main/index.js',
    'app://jacscope/assets/%2e%2e%2f%2e%2e%2fpreload/index.cjs',
    'app://jacscope/..%5c..%5cwindows',
    'app://other/index.html',
    'file:///srv/app/out/renderer/index.html',
    'app://jacscope/%00',
    'app://jacscope/%E0%A4%A',
    'not a url',
  ])('refuses %s', (url) => {
    const r = resolveAppFile(url, root);
    if (r !== null) expect(r.startsWith(root + '/')).toBe(true);
    else expect(r).toBeNull();
  });

  it('sends the CSP and nosniff with every response', () => {
    const h = appHeaders('/x/index.html', cspString('header'));
    expect(h['Content-Security-Policy']).toContain("default-src 'self'");
    expect(h['X-Content-Type-Options']).toBe('nosniff');
    expect(appHeaders('/x/a.js', '')['Content-Type']).toMatch(/^text\/javascript/);
    expect(appHeaders('/x/a.wasm', '')['Content-Type']).toBe('application/wasm');
  });
});

function find(items: MenuItemConstructorOptions[], label: string): MenuItemConstructorOptions {
  for (const it of items) {
    if (it.label === label) return it;
    if (Array.isArray(it.submenu)) {
      try {
        return find(it.submenu, label);
      } catch {
        /* keep looking */
      }
    }
  }
  throw new Error(`no menu item ${label}`);
}

describe('menu', () => {
  const actions = { open: vi.fn(), openRecent: vi.fn(), clearRecent: vi.fn(), command: vi.fn() };
  const click = (item: MenuItemConstructorOptions) => (item.click as unknown as () => void)();

  it('has File › Open, Open Recent and the exports', () => {
    const t = menuTemplate(actions, ['/data/model.pt'], { mac: false, dev: false });
    const open = find(t, 'Open…');
    expect(open.accelerator).toBe('CmdOrCtrl+O');
    click(open);
    expect(actions.open).toHaveBeenCalled();
    click(find(t, 'model.pt'));
    expect(actions.openRecent).toHaveBeenCalledWith('/data/model.pt');
    click(find(t, 'Visible slice as CSV…'));
    click(find(t, 'Whole J as long-format CSV…'));
    click(find(t, 'Heatmap as PNG…'));
    expect(actions.command.mock.calls.map((c) => c[0])).toEqual([
      'export-slice-csv',
      'export-full-csv',
      'export-heatmap-png',
    ]);
  });

  it('offers no dev tools outside development and an empty recent list as disabled', () => {
    const t = menuTemplate(actions, [], { mac: false, dev: false });
    expect(JSON.stringify(t)).not.toContain('toggleDevTools');
    expect(find(t, 'No recent files').enabled).toBe(false);
  });
});
