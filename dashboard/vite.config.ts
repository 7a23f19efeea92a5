import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The api (FastAPI, port 8000) serves the built dashboard; in development Vite
// serves it and forwards the api routes.
const api = process.env.EASYFLOW_API_URL ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react()],
  base: "/",
  build: { outDir: "dist", emptyOutDir: true },
  server: {
    port: 5173,
    proxy: {
      "/api": api,
      "/health": api,
      "/metrics": api,
      "/widget": api,
      "/demo": api,
    },
  },
});
