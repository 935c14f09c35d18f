/** Shared-memory protocol between ./parallel_matmul.ts and ./matmul_worker.ts (indices into the control block). */
export const CTRL = { state: 0, job: 1, m: 2, k: 3, n: 4, aOff: 5, bOff: 6, outOff: 7 } as const;
export const CTRL_LENGTH = 8;
export const STATE_IDLE = 0;
export const STATE_BUSY = 1;
export const STATE_DONE = 2;
export const STATE_FAILED = 3;
export const JOB_MATMUL = 1;
export const JOB_EXIT = 2;

export interface MatMulWorkerInit {
  control: SharedArrayBuffer;
  data: SharedArrayBuffer;
}
