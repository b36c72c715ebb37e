// End-to-end: the qwen-lsp extension (.vsix) in a real VS Code, as a user meets it.
//
// VS Code runs as code-server (npm) and is driven by playwright-core in Debian's chromium. The
// test installs the offline .vsix into a fresh extensions folder, with no `qwen-lsp` anywhere
// on PATH and no server setting; the extension says the server is missing, the test clicks
// "Install the qwen-lsp server", and the extension makes its private environment from the
// `python3` on PATH and installs the wheels it carries with no package index (PIP_NO_INDEX=1,
// no pip configuration). `qwen-lsp.baseUrl` points at the fake LLM (`python -m
// tests.fakes.llm_server`, a separate process). Then it opens a Python file, types, waits for
// the ghost text, accepts it with Tab, saves, and checks the file on disk and that `qwen-lsp
// stats` counts the accepted suggestion (and not one dismissed with Escape); it picks a
// qwen-lsp code action from the light bulb and checks its edit. Screenshots go to
// test-artifacts/vscode/ at the repository root.
//
// Environment (all optional; the defaults are what .ci/run sets up):
//   QWEN_LSP_VSIX     the offline extension package (editors/vscode/dist/qwen-lsp-linux-x64.vsix)
//   QWEN_LSP_PYTHON   Python that runs the fake LLM; its base interpreter is the `python3` the
//                     extension finds on PATH       (.venv/bin/python)
//   CHROMIUM          the browser             (/usr/bin/chromium)
//   QWEN_LSP_E2E_KEEP keep the temporary folder (user data, logs) for a look afterwards

import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, "..", "..", "..");
const VSIX =
  process.env.QWEN_LSP_VSIX ??
  join(REPO, "editors", "vscode", "dist", "qwen-lsp-linux-x64.vsix");
const PYTHON =
  process.env.QWEN_LSP_PYTHON ?? join(REPO, ".venv", "bin", "python");
// `qwen-lsp stats` of the repository's own install reads the ledger the editor's server writes
// (the same QWEN_LSP_CACHE_DIR).
const SERVER = join(dirname(PYTHON), "qwen-lsp");
const BROWSER = process.env.CHROMIUM ?? "/usr/bin/chromium";
const CODE_SERVER = join(HERE, "node_modules", ".bin", "code-server");
const ARTIFACTS = join(REPO, "test-artifacts", "vscode");

const REPLY = "a + b";
const DOCSTRING_REPLY =
  '```python\ndef add(a, b):\n    """Return the sum of a and b."""\n    return a + b\n```';
const WITH_DOCSTRING =
  'def add(a, b):\n    """Return the sum of a and b."""\n    return a + b\n';
const EXPLANATION = "Adds **a** and **b** and returns `the sum`.";
const SOURCE = "def add(a, b):\n    \n";
const TYPED = "return ";
const EXPECTED = "def add(a, b):\n    return a + b\n";
const WAIT = 60_000; // each wait for the editor; the whole test is bounded by --test-timeout
const INSTALL_WAIT = 400_000; // a new environment and ~50 wheels, on a busy machine

/** The folder where the extension keeps its private environment (its global storage). */
const storage = () =>
  join(run.tmp, "data", "User", "globalStorage", "qwen-lsp.qwen-lsp");

const SCRUBBED =
  /^(QWEN_LSP_|DASHSCOPE_|OPENAI_|VSCODE_|CODE_SERVER_|PASSWORD|HASHED_PASSWORD|PIP_)/;

/** PATH without any folder holding a `qwen-lsp`: the server must come from the extension. */
function pathWithoutServer(value) {
  return (value ?? "")
    .split(":")
    .filter((dir) => dir !== "" && !existsSync(join(dir, "qwen-lsp")))
    .join(":");
}

/** Everything one run owns: temporary folders, processes, the page; cleaned up in `after`. */
const run = {
  tmp: "",
  processes: [],
  logs: {},
  browser: undefined,
  page: undefined,
  shots: [],
  fake: "",
};

function log(message) {
  process.stderr.write(`[vscode-e2e] ${message}\n`);
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/** Start a process in its own process group; resolve when `ready` matches its output. */
function startProcess(name, command, args, options, ready) {
  return new Promise((resolveStart, reject) => {
    const child = spawn(command, args, {
      ...options,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    run.processes.push(child);
    run.logs[name] = "";
    let settled = false;
    const timer = setTimeout(
      () => finish(new Error(`${name} did not start within ${WAIT} ms`)),
      WAIT,
    );
    function finish(error, value) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      error ? reject(error) : resolveStart(value);
    }
    const onData = (chunk) => {
      run.logs[name] += chunk.toString();
      const match = run.logs[name].match(ready);
      if (match) finish(undefined, { child, match });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("error", (error) => finish(error));
    child.once("exit", (code) =>
      finish(
        new Error(
          `${name} exited with ${code} before it was ready:\n${run.logs[name].slice(-3000)}`,
        ),
      ),
    );
  });
}

function killAll() {
  for (const child of run.processes.reverse()) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, "SIGKILL"); // the group: code-server's extension host and our server too
      } catch {
        // already gone
      }
    }
  }
}

async function shot(name) {
  const file = join(ARTIFACTS, `${name}.png`);
  await run.page.screenshot({ path: file });
  run.shots.push(file);
  log(`screenshot ${file}`);
}

/** The newest file named `name` under `dir`, for the failure report. */
function findLog(dir, name) {
  let best;
  const walk = (d) => {
    for (const entry of existsSync(d)
      ? readdirSync(d, { withFileTypes: true })
      : []) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (
        entry.name === name &&
        (!best || statSync(full).mtimeMs > statSync(best).mtimeMs)
      )
        best = full;
    }
  };
  walk(dir);
  return best;
}

function report() {
  const parts = [];
  const extensionLog =
    findLog(join(run.tmp, "data", "logs"), "qwen-lsp.log") ??
    findLog(join(run.tmp, "data", "logs"), "1-qwen-lsp.log");
  if (extensionLog)
    parts.push(
      `--- the extension's output channel (${extensionLog}):\n${readFileSync(extensionLog, "utf8").slice(-4000)}`,
    );
  for (const [name, text] of Object.entries(run.logs))
    parts.push(`--- ${name}:\n${text.slice(-2500)}`);
  return parts.join("\n");
}

/** The editor's lines as the user sees them (virtual text excluded). */
async function editorText(page) {
  return page.evaluate(() => {
    const lines = [
      ...document.querySelectorAll(".monaco-editor .view-lines .view-line"),
    ];
    lines.sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top));
    return lines
      .map((line) => line.textContent.replace(/\u00a0/g, " "))
      .join("\n");
  });
}

async function ghostText(page) {
  return page.evaluate(() =>
    [
      ...document.querySelectorAll(
        ".monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text",
      ),
    ]
      .map((el) => el.textContent.replace(/\u00a0/g, " "))
      .join(""),
  );
}

async function waitFor(what, predicate, timeout = WAIT) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    last = await predicate();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
}

/** The fake LLM's control API (tests/fakes/llm_server.py, under /_fake/). */
async function fake(method, action, body) {
  const response = await fetch(`${run.fake}/_fake/${action}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.equal(response.status, 200, `fake ${action}: HTTP ${response.status}`);
  return response.json();
}

async function runCommand(page, title) {
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible", timeout: WAIT });
  await input.fill(`>${title}`);
  await page
    .locator(".quick-input-list .monaco-list-row", { hasText: title })
    .first()
    .waitFor({ timeout: WAIT });
  await page.keyboard.press("Enter");
}

describe("VS Code extension in code-server", () => {
  let project;
  let file;

  before(async () => {
    for (const [what, path] of [
      ["the .vsix (npm run package:linux-x64 in editors/vscode)", VSIX],
      ["the Python of the fake LLM", PYTHON],
      ["code-server (npm ci in tests/clients/vscode)", CODE_SERVER],
      ["chromium (apt-get install chromium)", BROWSER],
    ]) {
      assert.ok(existsSync(path), `missing ${what}: ${path}`);
    }
    rmSync(ARTIFACTS, { recursive: true, force: true });
    mkdirSync(ARTIFACTS, { recursive: true });
    run.tmp = mkdtempSync(join(tmpdir(), "qwen-lsp-vscode-"));
    project = join(run.tmp, "project");
    file = join(project, "calc.py");
    mkdirSync(project);
    writeFileSync(
      join(project, "pyproject.toml"),
      '[project]\nname = "calc"\n',
    );
    writeFileSync(file, SOURCE);

    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !SCRUBBED.test(k)),
    );
    // The server inherits code-server's environment through the extension: these prove it.
    env.QWEN_LSP_CONFIG = join(run.tmp, "no-user-config.toml");
    env.QWEN_LSP_CACHE_DIR = join(run.tmp, "cache");
    env.XDG_CONFIG_HOME = join(run.tmp, "xdg-config");
    env.XDG_DATA_HOME = join(run.tmp, "xdg-data");
    // The Python the extension finds: `python3` on PATH, the base interpreter of PYTHON.
    const base = spawnSync(
      PYTHON,
      ["-c", "import sys; print(sys._base_executable)"],
      { encoding: "utf8" },
    ).stdout.trim();
    run.python3 = join(run.tmp, "bin", "python3");
    mkdirSync(dirname(run.python3));
    symlinkSync(base, run.python3);
    env.PATH = `${dirname(run.python3)}:${pathWithoutServer(env.PATH)}`;
    assert.ok(
      env.PATH.split(":").every((dir) => !existsSync(join(dir, "qwen-lsp"))),
      "no qwen-lsp on the PATH the editor gets",
    );
    // pip may use nothing but the wheels inside the extension.
    env.PIP_NO_INDEX = "1";
    env.PIP_CONFIG_FILE = "/dev/null";
    run.env = env;

    const fakeProcess = await startProcess(
      "fake LLM",
      PYTHON,
      ["-m", "tests.fakes.llm_server", "--reply", REPLY],
      { cwd: REPO, env },
      /READY (\S+)/,
    );
    run.fake = fakeProcess.match[1];
    const baseUrl = `${run.fake}/v1`;
    log(`fake LLM at ${baseUrl}`);

    const dirs = [
      "--user-data-dir",
      join(run.tmp, "data"),
      "--extensions-dir",
      join(run.tmp, "extensions"),
    ];
    const configFile = join(run.tmp, "code-server.yaml");
    writeFileSync(configFile, "auth: none\ncert: false\n");
    const install = spawnSync(
      CODE_SERVER,
      ["--config", configFile, ...dirs, "--install-extension", VSIX],
      { env, encoding: "utf8", timeout: WAIT * 2 },
    );
    assert.equal(
      install.status,
      0,
      `installing the .vsix failed:\n${install.stdout}\n${install.stderr}`,
    );
    assert.match(install.stdout + install.stderr, /qwen-lsp.*installed/i);

    mkdirSync(join(run.tmp, "data", "User"), { recursive: true });
    run.settingsFile = join(run.tmp, "data", "User", "settings.json");
    run.settings = {
      "qwen-lsp.provider": "openai-compatible",
      "qwen-lsp.baseUrl": baseUrl,
      "qwen-lsp.promptMode": "fim",
      "editor.inlineSuggest.enabled": true,
      "editor.fontSize": 16,
      "editor.minimap.enabled": false,
      "workbench.startupEditor": "none",
      "workbench.secondarySideBar.defaultVisibility": "hidden",
      "workbench.tips.enabled": false,
      "workbench.enableExperiments": false,
      "security.workspace.trust.enabled": false,
      "extensions.autoCheckUpdates": false,
      "extensions.autoUpdate": false,
      "extensions.ignoreRecommendations": true,
      "telemetry.telemetryLevel": "off",
      "update.mode": "none",
      "chat.disableAIFeatures": true,
      "python.languageServer": "None",
    };
    writeFileSync(run.settingsFile, JSON.stringify(run.settings, null, 2));

    const port = await freePort();
    await startProcess(
      "code-server",
      CODE_SERVER,
      [
        "--config",
        configFile,
        ...dirs,
        "--bind-addr",
        `127.0.0.1:${port}`,
        "--auth",
        "none",
        "--disable-telemetry",
        "--disable-update-check",
        "--disable-workspace-trust",
        "--disable-getting-started-override",
        project,
      ],
      { env },
      /HTTP server listening/,
    );

    run.browser = await chromium.launch({
      executablePath: BROWSER,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
      ],
    });
    run.page = await run.browser.newPage({
      viewport: { width: 1280, height: 800 },
    });
    await run.page.goto(
      `http://127.0.0.1:${port}/?folder=${encodeURIComponent(project)}`,
    );
    await run.page.locator(".monaco-workbench").waitFor({ timeout: WAIT });
  });

  after(async () => {
    await run.browser?.close().catch(() => undefined);
    killAll();
    if (!process.env.QWEN_LSP_E2E_KEEP)
      rmSync(run.tmp, { recursive: true, force: true });
    else log(`kept ${run.tmp}`);
  });

  it("installs the server it carries, with no package index, when none is found", async (t) => {
    const page = run.page;
    try {
      await page.keyboard.press("Control+P");
      await page.locator(".quick-input-widget input").fill("calc.py");
      await page
        .locator(".quick-input-list .monaco-list-row", { hasText: "calc.py" })
        .first()
        .waitFor({ timeout: WAIT });
      await page.keyboard.press("Enter");
      const toast = page
        .locator(".notifications-toasts .notification-toast", {
          hasText: "language server was not found",
        })
        .first();
      await toast.waitFor({ timeout: WAIT });
      const text = await toast.innerText();
      assert.doesNotMatch(text, /install qwen-lsp/, "no install from an index");
      await shot("00-server-not-found");
      await toast
        .locator(".monaco-button", { hasText: "Install the qwen-lsp server" })
        .click();
      await page
        .locator(".notification-toast", {
          hasText: "qwen-lsp: installing the server",
        })
        .first()
        .waitFor({ timeout: WAIT });
      await shot("00-installing");

      const status = page
        .locator(".statusbar-item", { hasText: "Qwen" })
        .first();
      await waitFor(
        "the installed server to run",
        async () => /Qwen \$\d/.test(await status.innerText()),
        INSTALL_WAIT,
      );
      const marker = JSON.parse(
        readFileSync(join(storage(), "server", "installed.json"), "utf8"),
      );
      assert.match(marker.wheel, /^qwen_lsp-.*\.whl$/);
      assert.equal(
        realpathSync(marker.python),
        realpathSync(run.python3),
        "made with python3 from PATH",
      );
      assert.ok(
        existsSync(join(storage(), "server", "venv", "bin", "qwen-lsp")),
        "the server lives in the extension's global storage",
      );
    } catch (error) {
      await shot("failure").catch(() => undefined);
      t.diagnostic(report());
      throw error;
    }
  });

  it("shows ghost text from the model, Tab accepts it, and the status bar reports", async (t) => {
    const page = run.page;
    try {
      await page.keyboard.press("Control+P");
      await page.locator(".quick-input-widget input").fill("calc.py");
      await page
        .locator(".quick-input-list .monaco-list-row", { hasText: "calc.py" })
        .first()
        .waitFor({ timeout: WAIT });
      await page.keyboard.press("Enter");
      await page
        .locator(".monaco-editor .view-lines")
        .first()
        .waitFor({ timeout: WAIT });

      // The server is up when the status bar shows today's spend from its qwen-lsp/status.
      const status = page
        .locator(".statusbar-item", { hasText: "Qwen" })
        .first();
      await status.waitFor({ timeout: WAIT });
      await waitFor("the status bar to show the server's figures", async () =>
        /Qwen \$\d/.test(await status.innerText()),
      );

      await page.locator(".monaco-editor .view-lines").first().click();
      await page.keyboard.press("Control+Home");
      await page.keyboard.press("ArrowDown");
      await page.keyboard.press("End");
      await page.keyboard.type(TYPED, { delay: 60 });

      const ghost = await waitFor("ghost text", async () => {
        const text = await ghostText(page);
        return text.includes(REPLY) ? text : undefined;
      });
      assert.match(ghost, /a \+ b/);
      await shot("01-ghost-text");

      await page.keyboard.press("Tab");
      await waitFor("the accepted line", async () =>
        (await editorText(page)).includes(`return ${REPLY}`),
      );
      assert.equal(
        await ghostText(page),
        "",
        "the ghost text is gone once accepted",
      );
      await page.keyboard.press("Control+S");
      await waitFor(
        "the file saved",
        () => readFileSync(file, "utf8") === EXPECTED,
      );
      await shot("02-accepted");
      // Accepting ran the item's command (qwen-lsp.accepted): the server counted it, and
      // `qwen-lsp stats` (reading the same ledger) shows it.
      await waitFor("stats to count the accepted suggestion", () => {
        const stats = spawnSync(SERVER, ["stats", "--format", "json"], {
          env: run.env,
          encoding: "utf8",
          timeout: WAIT,
        });
        const rows =
          stats.status === 0 ? JSON.parse(stats.stdout).acceptance : [];
        return (rows ?? []).some((row) => row.accepted === 1 && row.shown >= 1);
      });
      // Dismissed with Escape: shown, never accepted, so not counted as accepted.
      await page.keyboard.press("Control+End");
      await page.keyboard.type("x = ", { delay: 60 });
      await waitFor("a second ghost text", async () =>
        (await ghostText(page)).includes(REPLY),
      );
      await page.keyboard.press("Escape");
      await waitFor(
        "the ghost text dismissed",
        async () => (await ghostText(page)) === "",
      );
      await waitFor("stats to count it as shown only", () => {
        const stats = spawnSync(SERVER, ["stats", "--format", "json"], {
          env: run.env,
          encoding: "utf8",
          timeout: WAIT,
        });
        const rows =
          stats.status === 0 ? JSON.parse(stats.stdout).acceptance : [];
        return (rows ?? []).some(
          (row) => row.accepted === 1 && row.shown === 2,
        );
      });
      await page.keyboard.press("Home");
      await page.keyboard.press("Shift+End");
      await page.keyboard.press("Delete");
      await page.keyboard.press("Control+S");
      await waitFor(
        "the file saved as accepted",
        () => readFileSync(file, "utf8") === EXPECTED,
      );

      // Status bar: the server's qwen-lsp/status figures, or at least a running server.
      const text = await status.innerText();
      assert.match(text, /Qwen/);
      assert.doesNotMatch(text, /no server|stopped/);
      await status.click();
      await page
        .locator(".quick-input-list .monaco-list-row", {
          hasText: "Show spend and savings",
        })
        .waitFor({ timeout: WAIT });
      await shot("03-status-menu");
      // Toggling goes through the setting, which reaches the running server live.
      await page
        .locator(".quick-input-list .monaco-list-row", {
          hasText: "Turn inline completions off",
        })
        .click();
      await waitFor("the status bar to say off", async () =>
        /Qwen off/.test(await status.innerText()),
      );
      await runCommand(page, "Qwen: Toggle Inline Completions");
      await waitFor("the status bar to show spend again", async () =>
        /Qwen \$\d/.test(await status.innerText()),
      );
    } catch (error) {
      await shot("failure").catch(() => undefined);
      t.diagnostic(report());
      throw error;
    }
  });

  it("picks an AI code action from the light bulb and applies its edit", async (t) => {
    const page = run.page;
    try {
      await fake("POST", "reply", { text: DOCSTRING_REPLY });
      const before = (await fake("GET", "requests")).length;
      const editor = page.locator(".monaco-editor .view-lines").first();
      await editor.click();
      await page.keyboard.press("Control+Home");
      await page.keyboard.press("ArrowDown");
      await page.keyboard.press("End");
      await page.keyboard.press("Control+.");
      const item = page
        .locator(".action-widget .monaco-list-row", {
          hasText: "AI: Add docstring",
        })
        .first();
      await item.waitFor({ timeout: WAIT });
      assert.equal(
        (await fake("GET", "requests")).length,
        before,
        "listing the actions called no model",
      );
      await shot("04-code-actions");
      await item.click();
      await waitFor("the docstring in the editor", async () =>
        (await editorText(page)).includes("Return the sum of a and b."),
      );
      await page.keyboard.press("Control+S");
      await waitFor(
        "the file saved with the docstring",
        () => readFileSync(file, "utf8") === WITH_DOCSTRING,
      );
      const chats = (await fake("GET", "requests"))
        .slice(before)
        .filter((r) => r.wire === "openai-chat");
      assert.equal(
        chats.length,
        1,
        "resolving the action asked the chat model once",
      );
      await shot("05-code-action-applied");
    } catch (error) {
      await shot("failure").catch(() => undefined);
      t.diagnostic(report());
      throw error;
    }
  });

  it("explains the selection as rendered Markdown beside the code", async (t) => {
    const page = run.page;
    try {
      await fake("POST", "reply", { text: EXPLANATION });
      await page.locator(".monaco-editor .view-lines").first().click();
      await page.keyboard.press("Control+A");
      await runCommand(page, "Qwen: Explain Selection");
      // The Markdown preview is a webview: its text lives in a nested frame.
      const rendered = await waitFor("the rendered explanation", async () => {
        for (const frame of page.frames()) {
          const strong = await frame
            .locator("strong", { hasText: "a" })
            .count()
            .catch(() => 0);
          const code = await frame
            .locator("code", { hasText: "the sum" })
            .count()
            .catch(() => 0);
          if (strong > 0 && code > 0) return frame;
        }
        return undefined;
      });
      assert.match(
        await rendered.locator("h1").first().innerText(),
        /Explanation of calc\.py/,
      );
      await shot("06-explanation");
    } catch (error) {
      await shot("failure").catch(() => undefined);
      t.diagnostic(report());
      throw error;
    }
  });

  it("says how to install the server when its command is missing, and recovers", async (t) => {
    const page = run.page;
    try {
      await page.keyboard.press("Escape");
      const status = page
        .locator(".statusbar-item", { hasText: "Qwen" })
        .first();
      const missing = join(run.tmp, "nowhere", "qwen-lsp");
      // As a user would: the Settings editor, filtered to the one setting.
      await runCommand(page, "Preferences: Open User Settings");
      await page.locator(".settings-editor").waitFor({ timeout: WAIT });
      await page.keyboard.type("@id:qwen-lsp.server.path");
      await page
        .locator(".settings-editor", { hasText: "1 Setting Found" })
        .waitFor({ timeout: WAIT });
      const input = page
        .locator('.settings-editor .setting-item-control input[type="text"]')
        .first();
      await input.waitFor({ timeout: WAIT });
      await input.fill(missing);
      await input.press("Tab");
      const toast = page
        .locator(".notifications-toasts .notification-toast", {
          hasText: "not an executable",
        })
        .first();
      await toast.waitFor({ timeout: WAIT });
      const text = await toast.innerText();
      assert.match(text, /pipx install \./);
      assert.doesNotMatch(text, /install qwen-lsp/, "no install from an index");
      assert.match(text, /qwen-lsp\.server\.path/);
      await waitFor("the status bar to say the server is missing", async () =>
        /no server/.test(await status.innerText()),
      );
      await shot("07-server-missing");

      // An empty setting: the extension's own server again.
      await input.fill("");
      await input.press("Tab");
      await waitFor("the server to run again", async () =>
        /Qwen \$\d/.test(await status.innerText()),
      );
      const failures = await page
        .locator(".notification-toast", { hasText: /failed/i })
        .count();
      assert.equal(
        failures,
        0,
        "no error from the language client while restarting",
      );
    } catch (error) {
      await shot("failure").catch(() => undefined);
      t.diagnostic(report());
      throw error;
    }
  });
});
