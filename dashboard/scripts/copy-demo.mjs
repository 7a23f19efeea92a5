// Copies the demo shop page into the build: dist/demo/index.html.
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
mkdirSync(join(root, "dist", "demo"), { recursive: true });
copyFileSync(join(root, "demo", "index.html"), join(root, "dist", "demo", "index.html"));
console.log("demo page -> dist/demo/index.html");
