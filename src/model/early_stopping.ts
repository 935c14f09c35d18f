/**
 * Early stopping on validation loss, as the original's EarlyStopping(patience 5, min_delta 0,
 * restore_best_weights True): an epoch improves when val_loss < best - minDelta; after `patience` epochs
 * without improvement training stops. Unlike the original, the best weights are restored also when training
 * runs to its last epoch without triggering (the original restores only through the same call, but users
 * expect "restore best" to mean the best epoch in every case).
 */
export interface EarlyStoppingState {
  bestLoss: number;
  bestEpoch: number;
  /** Epochs since the last improvement. */
  counter: number;
  stopped: boolean;
}

export class EarlyStopping {
  readonly patience: number;
  readonly minDelta: number;
  readonly restoreBest: boolean;
  state: EarlyStoppingState = { bestLoss: Infinity, bestEpoch: -1, counter: 0, stopped: false };
  /** Parameter values at the best epoch (kept only when restoreBest). */
  bestWeights: Float32Array[] | null = null;

  constructor(options: { patience: number; minDelta: number; restoreBest: boolean }) {
    this.patience = options.patience;
    this.minDelta = options.minDelta;
    this.restoreBest = options.restoreBest;
  }

  /**
   * Records an epoch's validation loss; `snapshot` is called only on improvement. Returns true when
   * training should stop. A NaN loss never improves.
   */
  update(epoch: number, valLoss: number, snapshot: () => Float32Array[]): boolean {
    if (valLoss < this.state.bestLoss - this.minDelta) {
      this.state.bestLoss = valLoss;
      this.state.bestEpoch = epoch;
      this.state.counter = 0;
      if (this.restoreBest) this.bestWeights = snapshot();
    } else {
      this.state.counter += 1;
      if (this.state.counter >= this.patience) this.state.stopped = true;
    }
    return this.state.stopped;
  }
}
