/** `--checkpoint FILE`: the edge's checkpoint in a local file, replaced atomically (write, fsync, rename). */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { checkCheckpoint, type CheckpointStore, type EdgeCheckpoint } from './checkpoint';

export class FileCheckpointStore implements CheckpointStore {
  readonly where: string;
  private folderMade = false;

  constructor(
    private readonly file: string,
    private readonly node: string,
  ) {
    this.where = `file ${file}`;
  }

  async load(): Promise<EdgeCheckpoint | null> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    return checkCheckpoint(JSON.parse(text), this.node);
  }

  async save(checkpoint: EdgeCheckpoint): Promise<void> {
    if (!this.folderMade) {
      await fs.mkdir(path.dirname(this.file), { recursive: true });
      this.folderMade = true;
    }
    const temporary = `${this.file}.${process.pid}.tmp`;
    const handle = await fs.open(temporary, 'w');
    try {
      await handle.writeFile(JSON.stringify(checkpoint));
      await handle.sync(); // the rename must not point at a file whose data is still in flight
    } finally {
      await handle.close();
    }
    await fs.rename(temporary, this.file); // atomic: never half a checkpoint
  }
}
