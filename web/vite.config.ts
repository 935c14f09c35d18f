import { defineConfig, type Plugin } from 'vite';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

// The page lives in web/ and imports the shared TypeScript in ../src (head_input, model_info, recognize), so
// Node and the browser run the same preprocessing code. Relative base: the built page works from any folder.
const webRoot = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = path.resolve(webRoot, '..');

/** Writes build-inputs.json: the project files bundled, so scripts/serve_web.ts rebuilds only when one changed. */
function recordInputs(): Plugin {
  return {
    name: 'wlasl-record-inputs',
    generateBundle() {
      const files = [...this.getModuleIds()]
        .map((id) => id.split('?')[0]!)
        .filter((id) => path.isAbsolute(id) && !id.includes(`${path.sep}node_modules${path.sep}`) && id.startsWith(repoRoot))
        .map((id) => path.relative(repoRoot, id))
        .sort();
      files.push('web/index.html', 'web/vite.config.ts');
      this.emitFile({ type: 'asset', fileName: 'build-inputs.json', source: JSON.stringify([...new Set(files)], null, 1) });
    },
  };
}

export default defineConfig({
  root: webRoot,
  base: './',
  logLevel: 'warn',
  plugins: [recordInputs()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // tfjs is large on purpose (the whole point is in-browser inference); no warning noise about it.
    chunkSizeWarningLimit: 6000,
    // Keep .wasm files as separate assets (never inlined as base64): tfjs fetches them by URL.
    assetsInlineLimit: 0,
    target: 'es2020',
  },
  server: { fs: { allow: ['..'] } },
});
