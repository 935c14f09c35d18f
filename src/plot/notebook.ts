/**
 * Rich output for tslab notebooks. tslab's own `display` sends one MIME type per output; a chart needs one
 * output bundle with several (Vega-Lite for JupyterLab, SVG/PNG for GitHub and nbconvert), so that each viewer
 * picks the richest it can render and none shows the chart twice. tslab exposes its display writer on the
 * module it loads from node_modules, which is the same module instance we require here.
 */
export type MimeBundle = Record<string, unknown>;

interface TslabJupyterModule {
  lastWriteDisplayData?: (data: { data: MimeBundle; metadata: Record<string, unknown>; transient: Record<string, unknown> }, update: boolean) => void;
}

function tslabWriter(): TslabJupyterModule['lastWriteDisplayData'] {
  try {
    return (require('tslab/dist/jupyter') as TslabJupyterModule).lastWriteDisplayData ?? undefined;
  } catch {
    return undefined;
  }
}

/** True inside a running tslab kernel (a cell is executing). */
export function inNotebook(): boolean {
  return tslabWriter() !== undefined;
}

/**
 * Shows a MIME bundle as one notebook output. With `displayId`, later calls with the same id replace the
 * output in place (live training curves). Outside a notebook, prints the text/plain part and returns false.
 */
export function displayBundle(bundle: MimeBundle, options: { displayId?: string; update?: boolean } = {}): boolean {
  const write = tslabWriter();
  if (!write) {
    const text = bundle['text/plain'];
    if (typeof text === 'string') console.log(text);
    return false;
  }
  write({ data: bundle, metadata: {}, transient: options.displayId ? { display_id: options.displayId } : {} }, Boolean(options.update));
  return true;
}

/** A display handle whose output is replaced in place by each `show`. */
export function liveDisplay(): { show(bundle: MimeBundle): boolean } {
  const displayId = `wlasl-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  let shown = false;
  return {
    show(bundle) {
      const ok = displayBundle(bundle, { displayId, update: shown });
      shown = shown || ok;
      return ok;
    },
  };
}
