// Tests of scripts/check-cycles.mjs on small workspaces written to a temporary directory.
// Run: node --test scripts/check-cycles.test.mjs (plain Node, no dependencies).

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "check-cycles.mjs");

/** Writes `files` ({ path: text }) as a workspace with members `members`, runs the checker. */
function check(members, files, ...args) {
  const root = mkdtempSync(join(tmpdir(), "check-cycles-"));
  try {
    const all = {
      "Cargo.toml": `[workspace]\nmembers = [${members.map((m) => JSON.stringify(m)).join(", ")}]\n`,
      ...files,
    };
    for (const member of members) {
      all[join(member, "Cargo.toml")] ??= `[package]\nname = "x"\n`;
    }
    for (const [path, text] of Object.entries(all)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    const run = spawnSync(process.execPath, [SCRIPT, "--root", root, ...args], { encoding: "utf8" });
    return { status: run.status, out: run.stdout + run.stderr };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test("a use in each direction between siblings is a cycle, with its lines", () => {
  const { status, out } = check(["c"], {
    "c/src/lib.rs": "mod a;\nmod b;\n",
    "c/src/a.rs": "use crate::b::B;\npub struct A;\n",
    "c/src/b.rs": "// crate::a in a comment is no use\npub struct B;\nfn f() -> crate::a::A { crate::a::A }\n",
  });
  assert.equal(status, 1, out);
  assert.match(out, /CYCLE in c\/src\/lib.rs: c\/src\/a.rs, c\/src\/b.rs/);
  assert.match(out, /c\/src\/a.rs:1: use crate::b::B;/);
  assert.match(out, /c\/src\/b.rs:3: fn f\(\) -> crate::a::A/);
  assert.doesNotMatch(out, /b.rs:1:/);
});

test("one direction only is no cycle", () => {
  const { status, out } = check(["c"], {
    "c/src/lib.rs": "mod a;\nmod b;\n",
    "c/src/a.rs": "use crate::b::B;\n",
    "c/src/b.rs": "pub struct B;\n",
  });
  assert.equal(status, 0, out);
  assert.match(out, /0 cycle\(s\)/);
});

test("a parent's re-export of its child is no dependency; uses resolve through it", () => {
  const { status, out } = check(["c"], {
    "c/src/lib.rs": "pub mod m;\n",
    "c/src/m/mod.rs": "mod inner;\nmod other;\npub use inner::Item;\npub const LIMIT: u8 = 1;\n",
    "c/src/m/inner.rs": "pub struct Item;\nuse super::other::helper;\nuse super::LIMIT;\n",
    "c/src/m/other.rs": "pub fn helper() {}\nfn g(_: crate::m::Item) {}\n",
  });
  // other -> inner (through the re-export) and inner -> other: a cycle; inner -> m/mod.rs
  // (LIMIT) but not back, so m/mod.rs is not in it.
  assert.equal(status, 1, out);
  assert.match(out, /CYCLE in c\/src\/lib.rs: c\/src\/m\/inner.rs, c\/src\/m\/other.rs\n/);
});

test("cfg(test) items and mod declarations are not edges", () => {
  const { status, out } = check(["c"], {
    "c/src/lib.rs": "mod a;\nmod b;\n",
    "c/src/a.rs": "use crate::b::B;\n#[cfg(test)]\nmod tests;\n",
    "c/src/a/tests.rs": "use crate::b::*;\n",
    "c/src/b.rs":
      "pub struct B;\n#[cfg(test)]\nmod tests {\n    use crate::a;\n    fn t() { crate::a::f(); }\n}\n" +
      "#[cfg(test)]\nuse crate::a::X;\n",
  });
  assert.equal(status, 0, out);
});

test("the crate root using its children while they use its items is a cycle", () => {
  const { status, out } = check(["c"], {
    "c/src/lib.rs": "mod a;\nfn lock() {}\npub fn run() { a::go() }\n",
    "c/src/a.rs": "use crate::lock;\npub fn go() { lock() }\n",
  });
  assert.equal(status, 1, out);
  assert.match(out, /c\/src\/lib.rs:3: pub fn run\(\) \{ a::go\(\) \}/);
});

test("--allow reports cycles under a directory without failing, and only there", () => {
  const files = {
    "Cargo.toml": '[workspace]\nmembers = [".", "d"]\n',
    "src/lib.rs": "mod a;\nmod b;\n",
    "src/a.rs": "use super::b::B;\npub struct A;\n",
    "src/b.rs": "use super::a::A;\npub struct B;\n",
  };
  const allowed = check([".", "d"], { ...files, "d/src/lib.rs": "" }, "--allow", "src");
  assert.equal(allowed.status, 0, allowed.out);
  assert.match(allowed.out, /allowed cycle in src\/lib.rs: src\/a.rs, src\/b.rs/);
  const strict = check([".", "d"], { ...files, "d/src/lib.rs": "" });
  assert.equal(strict.status, 1, strict.out);
  const elsewhere = check(
    [".", "d"],
    {
      ...files,
      "d/src/lib.rs": "mod a;\nmod b;\n",
      "d/src/a.rs": "use crate::b::B;\npub struct A;\n",
      "d/src/b.rs": "use crate::a::A;\npub struct B;\n",
    },
    "--allow",
    "src",
  );
  assert.equal(elsewhere.status, 1, elsewhere.out);
  assert.match(elsewhere.out, /CYCLE in d\/src\/lib.rs/);
});

test("strings, raw strings, char literals and lifetimes do not confuse the lexer", () => {
  const { status, out } = check(["c"], {
    "c/src/lib.rs": "mod a;\nmod b;\n",
    "c/src/a.rs": "fn f<'a>(x: &'a str) -> char { let _ = \"crate::b::B\"; let _ = r#\"crate::b\"#; '\"' }\nuse crate::b::B;\n",
    "c/src/b.rs": "const S: &str = \"use crate::a::A;\";\nconst C: char = '\\'';\npub struct B;\n",
  });
  assert.equal(status, 0, out);
});
