/// <reference types="vitest/config" />
// Vite build of the web UI. Relative asset URLs (base "./") so the same dist/ works at
// /v1/admin/ (the server adds a <base>) and inside the desktop window.
import { defineConfig } from "vitest/config";

export default defineConfig({
  base: "./",
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: { outDir: "dist", emptyOutDir: true, target: "es2020", chunkSizeWarningLimit: 200 },
  test: { include: ["src/**/*.test.ts"], environment: "node" },
});
