import { SingleBar, Presets } from 'cli-progress';

/**
 * Progress for long work: a live bar with rate and ETA on a terminal; compact lines elsewhere (notebooks,
 * CI logs), at most one per `lineIntervalMs` plus the last. WLASL_PROGRESS=bar|lines|none overrides.
 */
export type ProgressMode = 'bar' | 'lines' | 'none';

export interface Progress {
  /** Advance by `n` items; `info` is shown beside the bar (e.g. the current video id). */
  tick(n?: number, info?: string): void;
  /** Change the total (e.g. after skipping finished items). */
  setTotal(total: number): void;
  /** End the bar; prints `summary` on its own line when given. */
  stop(summary?: string): void;
}

export interface ProgressOptions {
  mode?: ProgressMode;
  stream?: NodeJS.WriteStream;
  lineIntervalMs?: number;
  /** Unit shown in rates ("videos", "frames", "batches"). */
  unit?: string;
}

export function progressMode(stream: NodeJS.WriteStream = process.stderr): ProgressMode {
  const env = process.env.WLASL_PROGRESS;
  if (env === 'bar' || env === 'lines' || env === 'none') return env;
  return stream.isTTY ? 'bar' : 'lines';
}

/** 42s, 8m05s, 1h03m. Rounded to whole seconds first, so 539.6 s is 9m00s, never 8m60s. */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const total = Math.max(0, Math.round(s));
  if (total < 60) return `${total}s`;
  const m = Math.floor(total / 60);
  return m < 60 ? `${m}m${String(total % 60).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function createProgress(label: string, total: number, options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  const mode = options.mode ?? progressMode(stream);
  const unit = options.unit ?? 'items';
  const started = Date.now();
  let done = 0;
  let currentTotal = total;

  if (mode === 'bar') {
    const bar = new SingleBar(
      {
        format: `${label} |{bar}| {value}/{total} ${unit} | {rate}/s | ETA {eta_formatted} | {info}`,
        stream,
        hideCursor: true,
        etaBuffer: 20,
        fps: 5,
      },
      Presets.shades_classic,
    );
    bar.start(total, 0, { rate: '0.0', info: '' });
    return {
      tick(n = 1, info = '') {
        done += n;
        const rate = done / Math.max((Date.now() - started) / 1000, 1e-3);
        bar.update(done, { rate: rate.toFixed(1), info });
      },
      setTotal(t) {
        currentTotal = t;
        bar.setTotal(t);
      },
      stop(summary) {
        bar.stop();
        if (summary) stream.write(summary + '\n');
      },
    };
  }

  if (mode === 'none') {
    return { tick: () => undefined, setTotal: () => undefined, stop: () => undefined };
  }

  const interval = options.lineIntervalMs ?? 5000;
  let lastLine = 0;
  const line = (info: string) => {
    const elapsed = (Date.now() - started) / 1000;
    const rate = done / Math.max(elapsed, 1e-3);
    const eta = rate > 0 ? (currentTotal - done) / rate : Infinity;
    const pct = currentTotal > 0 ? Math.floor((100 * done) / currentTotal) : 100;
    stream.write(`${label}: ${done}/${currentTotal} ${unit} (${pct}%) ${rate.toFixed(1)}/s ETA ${formatSeconds(eta)}${info ? ` ${info}` : ''}\n`);
  };
  return {
    tick(n = 1, info = '') {
      done += n;
      const now = Date.now();
      if (now - lastLine >= interval || done >= currentTotal) {
        lastLine = now;
        line(info);
      }
    },
    setTotal(t) {
      currentTotal = t;
    },
    stop(summary) {
      if (summary) stream.write(summary + '\n');
    },
  };
}
