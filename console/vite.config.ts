import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { defineConfig } from 'vite';
import { CONSOLE_DIR, consoleSourceHash } from './source-hash.ts';

// Preact's automatic JSX runtime through Vite's own transformer: no framework preset (and no
// Babel) to install. Served by Openroll at /console/; every script and style is a file.
export default defineConfig({
  root: CONSOLE_DIR,
  base: '/console/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // The strict CSP allows no data: URLs, so nothing is inlined as one.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
  plugins: [
    {
      // Without the typed client's build, a bundler may leave `@openroll/client` as a bare import
      // (with a warning) and the served console dies in the browser: this build fails instead.
      name: 'openroll-client-built',
      apply: 'build',
      async buildStart() {
        const resolved = await this.resolve('@openroll/client', path.join(CONSOLE_DIR, 'src', 'api.ts'));
        if (!resolved || resolved.external || !existsSync(resolved.id)) {
          this.error('@openroll/client is not built (clients/typescript/dist/index.js is missing): run `npm run build --workspace @openroll/client` first');
        }
      },
    },
    {
      name: 'openroll-source-hash',
      closeBundle() {
        writeFileSync(path.join(CONSOLE_DIR, 'dist', '.source-hash'), `${consoleSourceHash()}\n`);
      },
    },
  ],
});
