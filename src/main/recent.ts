/** The recent-files list: most recent first, de-duplicated, at most LIMITS.maxRecent, kept in a JSON file. */
import { LIMITS } from '../preload/contract';
import { nodeFs, writeFileAtomic } from './files';
import type { FsLike } from './files';

export class RecentFiles {
  private items: string[] = [];

  constructor(
    private readonly storePath: string | null,
    private readonly fs: FsLike = nodeFs,
    private readonly max: number = LIMITS.maxRecent,
  ) {}

  async load(): Promise<void> {
    if (!this.storePath) return;
    try {
      const raw: unknown = JSON.parse(new TextDecoder().decode(await this.fs.readFile(this.storePath)));
      if (Array.isArray(raw))
        this.items = raw.filter((p): p is string => typeof p === 'string').slice(0, this.max);
    } catch {
      this.items = []; // no list yet, or an unreadable one: start afresh
    }
  }

  list(): string[] {
    return [...this.items];
  }

  has(path: string): boolean {
    return this.items.includes(path);
  }

  async add(paths: readonly string[]): Promise<void> {
    if (paths.length === 0) return;
    this.items = [...new Set([...paths, ...this.items])].slice(0, this.max);
    await this.save();
  }

  async clear(): Promise<void> {
    this.items = [];
    await this.save();
  }

  private async save(): Promise<void> {
    if (!this.storePath) return;
    try {
      await writeFileAtomic(
        this.storePath,
        new TextEncoder().encode(JSON.stringify(this.items, null, 1)),
        this.fs,
      );
    } catch {
      // Remembering recent files is a convenience; a read-only profile must not break opening files.
    }
  }
}
