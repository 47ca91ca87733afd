import { describe, expect, it } from 'vitest';
import { ChosenPaths, pathsFromArgv } from '../../src/main/chosen';

describe('files named on the command line', () => {
  it('are the model and data files among the arguments, made absolute', () => {
    const argv = [
      '/opt/jacscope/jacscope',
      '--enable-logging',
      'model.pt',
      '/data/x.npy',
      'notes.txt',
      'https://e.x/a.npy',
    ];
    expect(pathsFromArgv(argv, { defaultApp: false, cwd: '/home/u/run' })).toEqual([
      '/home/u/run/model.pt',
      '/data/x.npy',
    ]);
  });

  it("skip the app folder of `electron <app>` and take anything after '--' as a file", () => {
    const argv = ['/usr/bin/electron', '/src/jacscope', '--', '-odd-name.npz'];
    expect(pathsFromArgv(argv, { defaultApp: true, cwd: '/w' })).toEqual(['/w/-odd-name.npz']);
    expect(pathsFromArgv(['/usr/bin/electron', 'model.pt'], { defaultApp: true, cwd: '/w' })).toEqual([]);
  });
});

describe('ChosenPaths', () => {
  it('knows exactly the paths granted, and how each was chosen first', () => {
    const c = new ChosenPaths();
    c.grant(['/d/a.npy'], 'drop');
    c.grant(['/d/a.npy', '/d/b.pt'], 'dialog');
    expect(c.has('/d/a.npy')).toBe(true);
    expect(c.has('/d/./a.npy')).toBe(false);
    expect(c.has('/d/c.npy')).toBe(false);
    expect([c.source('/d/a.npy'), c.source('/d/b.pt')]).toEqual(['drop', 'dialog']);
  });
});
