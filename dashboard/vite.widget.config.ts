import { defineConfig } from "vite";

// The shopper web chat widget: one self-contained IIFE file (socket.io-client
// bundled in) at dist/widget/easyflow-widget.js.
export default defineConfig({
  publicDir: false,
  build: {
    outDir: "dist/widget",
    emptyOutDir: true,
    target: "es2018",
    lib: {
      entry: "widget/index.ts",
      name: "EasyFlowWidget",
      formats: ["iife"],
      fileName: () => "easyflow-widget.js",
    },
  },
});
