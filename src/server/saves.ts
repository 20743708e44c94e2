/**
 * SAVE, BGSAVE and LASTSAVE over the store's checkpoints. A ringkv node has no RDB file to write:
 * every acknowledged write is already in the commit log, and a checkpoint moves the memtable into
 * LMDB, which is what Redis's save does for its data. So a save is a checkpoint asked for now,
 * and LASTSAVE moves when one ends, as backup scripts expect ("BGSAVE, then wait until LASTSAVE
 * changes") — the checkpoints the node makes on its own count too, as Redis's save points do.
 */
export class Saves {
  private lastSaveMs: number;
  /** Saves done (INFO rdb_saves). */
  count = 0;
  /** The running save, if any. */
  private running: Promise<void> | undefined;
  /** A BGSAVE from inside EXEC that came while one ran: runs after it. */
  private scheduled = false;
  private lastOk = true;
  /** Seconds the last save took (-1: none yet), and when the running one began. */
  lastSeconds = -1;
  private startedMs = 0;
  /** lastCheckpointAt() when the running save began: checkpoints ending during a save do not move LASTSAVE before it ends. */
  private checkpointBeforeMs = 0;

  constructor(
    /** Resolves once everything written before the call is in LMDB (Store.checkpointNow). */
    private readonly checkpoint: () => Promise<void>,
    /** When the store's last checkpoint ended, in Unix ms (0: none since start). */
    private readonly lastCheckpointAt: () => number,
    private readonly now: () => number,
    startedAt: number,
  ) {
    this.lastSaveMs = startedAt;
  }

  /**
   * LASTSAVE: the end of the last save or checkpoint, in Unix seconds. While a save runs, a
   * checkpoint that ends meanwhile (the node's own, begun before the save) is not counted until the
   * save ends: a script that waits for LASTSAVE to move after BGSAVE then finds the save done
   * (rdb_bgsave_in_progress 0), as with Redis, where only the save's end moves it.
   */
  lastSave(): number {
    const checkpoint = this.running === undefined ? this.lastCheckpointAt() : this.checkpointBeforeMs;
    return Math.floor(Math.max(this.lastSaveMs, checkpoint) / 1000);
  }

  get inProgress(): boolean {
    return this.running !== undefined;
  }

  /** Seconds the running save has taken so far (-1: none runs). */
  currentSeconds(): number {
    return this.running === undefined ? -1 : Math.floor((this.now() - this.startedMs) / 1000);
  }

  get lastStatus(): 'ok' | 'err' {
    return this.lastOk ? 'ok' : 'err';
  }

  /** SAVE: resolves when done, rejects when the checkpoint failed. Refused while one runs, as Redis refuses it. */
  save(): Promise<void> {
    if (this.running !== undefined) return Promise.reject(new SaveInProgress());
    return this.start();
  }

  /**
   * BGSAVE: 'started', or 'busy' while a save runs (Redis refuses it then, SCHEDULE or not);
   * `afterRunning` (inside EXEC, where Redis schedules it) runs it after the running one instead.
   */
  background(afterRunning = false): 'started' | 'scheduled' | 'busy' {
    if (this.running !== undefined) {
      if (!afterRunning) return 'busy';
      this.scheduled = true;
      return 'scheduled';
    }
    // Failures are in INFO (rdb_last_bgsave_status) and the node's log, as Redis reports them.
    this.start().catch(() => undefined);
    return 'started';
  }

  private start(): Promise<void> {
    this.startedMs = this.now();
    this.checkpointBeforeMs = this.lastCheckpointAt();
    const run = this.checkpoint().then(
      () => {
        this.lastOk = true;
        this.lastSaveMs = this.now();
        this.count++;
      },
      (err: unknown) => {
        this.lastOk = false;
        throw err;
      },
    ).finally(() => {
      this.lastSeconds = Math.round((this.now() - this.startedMs) / 1000);
      this.running = undefined;
      if (this.scheduled) {
        this.scheduled = false;
        this.background();
      }
    });
    this.running = run;
    return run;
  }
}

/** SAVE while a save runs. */
export class SaveInProgress extends Error {
  constructor() {
    super('ERR Background save already in progress');
  }
}
