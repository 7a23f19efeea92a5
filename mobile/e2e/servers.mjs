// Starts the real backend for the app's browser test, on free loopback ports, in
// a temp dir (as dashboard/e2e/global-setup.ts does): the action server, Rasa
// with the repository's web chat channel, and the admin api (seeded SQLite,
// ingesting Rasa's event file) through which the operator replies.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.unref();
    server.on("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => done(address.port));
    });
  });
}

export function tail(path, lines = 40) {
  return existsSync(path) ? readFileSync(path, "utf8").split("\n").slice(-lines).join("\n") : "";
}

/** The web chat block of the repository's credentials.yml (the channel the project ships). */
function webChatCredentials(repo) {
  const lines = readFileSync(join(repo, "credentials.yml"), "utf8").split("\n");
  const start = lines.findIndex((line) => /^(?![\s#])[^:]*(socket|webchat|web_chat)[^:]*:\s*$/i.test(line));
  if (start < 0) throw new Error("credentials.yml has no web chat (socket.io) channel");
  const block = [lines[start]];
  for (const line of lines.slice(start + 1)) {
    if (/^\s+\S/.test(line) && !/^\s*#/.test(line)) block.push(line);
    else if (line.trim() === "" || /^\s*#/.test(line)) continue;
    else break;
  }
  return block.join("\n");
}

export class Servers {
  constructor(repo) {
    this.repo = repo;
    this.children = [];
    this.stopping = false;
    this.dir = mkdtempSync(join(tmpdir(), "easyflow-mobile-e2e-"));
  }

  async ports() {
    [this.apiPort, this.rasaPort, this.actionsPort] = [await freePort(), await freePort(), await freePort()];
    this.rasaUrl = `http://127.0.0.1:${this.rasaPort}`;
    this.actionsUrl = `http://127.0.0.1:${this.actionsPort}`;
    this.apiUrl = `http://127.0.0.1:${this.apiPort}`;
  }

  start(name, command, args, env, cwd) {
    const log = join(this.dir, `${name}.log`);
    const fd = openSync(log, "w");
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", fd, fd], detached: true });
    closeSync(fd);
    child.log = log;
    child.on("exit", (code, signal) => {
      if (!this.stopping) console.error(`[e2e] ${name} exited (${code ?? signal}); log ${log}\n${tail(log, 20)}`);
    });
    this.children.push(child);
    return child;
  }

  /** Rasa + actions + api; returns once they are started (not yet ready). */
  launch() {
    const { repo, dir } = this;
    const model = join(repo, "models", "easyflow.tar.gz");
    const rasa = join(repo, ".venv", "bin", "rasa");
    const python = join(repo, ".venv", "bin", "python");
    const apiPython = join(repo, "api", ".venv", "bin", "python");
    for (const path of [model, rasa, apiPython]) {
      if (!existsSync(path)) throw new Error(`missing ${path} (make install install-api train)`);
    }
    const rasaDir = join(dir, "rasa");
    const apiDir = join(dir, "api");
    mkdirSync(rasaDir);
    mkdirSync(apiDir);
    const eventsDb = join(rasaDir, "events.db");
    const credentials = join(rasaDir, "credentials.yml");
    writeFileSync(credentials, `rest:\n${webChatCredentials(repo)}\n`);
    const endpoints = join(rasaDir, "endpoints.yml");
    writeFileSync(
      endpoints,
      [
        "action_endpoint:",
        `  url: "${this.actionsUrl}/webhook"`,
        "  headers:",
        "    Authorization: Bearer ${EASYFLOW_ACTION_TOKEN}",
        "  enable_selective_domain: true",
        "nlg:",
        "  type: bot.dialogue.nlg.LanguageAwareNLG",
        "  default_language: ru",
        "  action_timeout_s: 10",
        "tracker_store:",
        "  type: SQL",
        "  dialect: sqlite",
        `  db: ${join(rasaDir, "tracker.db")}`,
        "lock_store:",
        "  type: in_memory",
        "event_broker:",
        "  type: SQL",
        "  dialect: sqlite",
        `  db: ${eventsDb}`,
        "",
      ].join("\n"),
    );
    const rasaEnv = {
      ...process.env,
      EASYFLOW_DATA_DIR: rasaDir,
      EASYFLOW_ACTIONS_PORT: String(this.actionsPort),
      EASYFLOW_ACTIONS_HOST: "127.0.0.1",
      EASYFLOW_PUBLIC_URL: this.actionsUrl,
      EASYFLOW_RASA_URL: this.rasaUrl,
      EASYFLOW_ACTION_TOKEN: randomBytes(24).toString("hex"),
    };
    this.actions = this.start("actions", python, ["-m", "actions.server"], rasaEnv, repo);
    this.rasa = this.start(
      "rasa",
      rasa,
      ["run", "--enable-api", "-m", model, "--credentials", credentials, "--endpoints", endpoints, "--interface", "127.0.0.1", "-p", String(this.rasaPort)],
      rasaEnv,
      repo,
    );
    const apiEnv = {
      ...process.env,
      EASYFLOW_ENV: "development",
      EASYFLOW_DATA_DIR: apiDir,
      EASYFLOW_API_DATABASE_URL: `sqlite:///${join(apiDir, "api.db")}`,
      EASYFLOW_EVENTS_DATABASE_URL: `sqlite:///${eventsDb}`,
      EASYFLOW_API_INGEST: "sql",
      EASYFLOW_API_INGEST_INTERVAL_S: "0.5",
      EASYFLOW_RASA_URL: this.rasaUrl,
      EASYFLOW_ACTION_SERVER_URL: this.actionsUrl,
      EASYFLOW_API_LOGIN_MAX_FAILURES: "50",
    };
    const seed = spawnSync(apiPython, ["-m", "easyflow_api", "seed-demo"], {
      cwd: join(repo, "api"),
      env: apiEnv,
      encoding: "utf8",
      timeout: 120000,
    });
    if (seed.status !== 0) throw new Error(`seed-demo failed (${seed.status}):\n${seed.stdout}\n${seed.stderr}`);
    this.api = this.start(
      "api",
      join(repo, "api", ".venv", "bin", "uvicorn"),
      ["easyflow_api.main:app", "--host", "127.0.0.1", "--port", String(this.apiPort)],
      apiEnv,
      join(repo, "api"),
    );
  }

  async waitHttp(url, child, seconds) {
    const deadline = Date.now() + seconds * 1000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`process for ${url} exited; log ${child.log}:\n${tail(child.log)}`);
      }
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
        if (response.ok) return;
      } catch {
        /* not up yet */
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`timed out waiting for ${url}; log ${child.log}:\n${tail(child.log)}`);
  }

  /** The action server is ready once its knowledge passages are embedded (/ready). */
  async ready() {
    await this.waitHttp(`${this.apiUrl}/health`, this.api, 90);
    await this.waitHttp(`${this.actionsUrl}/ready`, this.actions, 300);
    await this.waitHttp(`${this.rasaUrl}/status`, this.rasa, 300);
  }

  async stop() {
    this.stopping = true;
    for (const child of this.children) {
      if (child.pid && child.exitCode === null) {
        try {
          process.kill(-child.pid, "SIGTERM");
        } catch {
          /* gone */
        }
      }
    }
    const deadline = Date.now() + 20000;
    for (const child of this.children) {
      while (child.exitCode === null && child.signalCode === null && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
      }
      if (child.pid && child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          /* gone */
        }
      }
    }
  }
}
