#!/usr/bin/env node
// Import cycles between the modules of every crate of the workspace.
//
// Usage: node scripts/check-cycles.mjs [--allow DIR]... [--edges] [--root DIR]
//
// Builds, for each crate root of each [workspace] member in Cargo.toml (src/lib.rs,
// src/main.rs, or the [lib] / [[bin]] paths), the module tree the `mod` declarations make, then
// a graph of the files, with an edge A -> B when code in A names a module of B. Every strongly
// connected component of more than one file is a cycle: it is printed with each of its edges
// and the lines that create them. Exits 1 if there is a cycle, unless every file of it is under
// a DIR given with --allow (relative to the repository root, e.g. `--allow src` for the client
// crate): such cycles are printed as "allowed" and do not fail. `--edges` also prints every
// edge of the graph (to see what the rules make of a file); `--root` checks another workspace
// than this repository (scripts/check-cycles.test.mjs does). Exits 2 on a usage error.
//
// The rules:
//
// * Sources are read with comments, string and char literals blanked out first (so doc links
//   such as [`crate::x`] and text in strings are not uses); line numbers are kept.
// * Edges come from `use` declarations (`use crate::...`, `use super::...`, `use self::...`,
//   and the 2018 "uniform" form `use child::...` where `child` is a module declared in the
//   current one; extern crates are ignored), with every branch of a `{...}` tree, and from
//   paths in code that start with `crate::`, `super::`, `self::` (`$crate` is ignored) or with
//   the name of a child module of the current module followed by `::`.
// * A path resolves to the deepest module it names: `crate::a::b::Item` is module `a::b` (its
//   file) when `b` is a module of `a`, else module `a`. If that module re-exports the item
//   (`pub use x::Item;`, `pub use x::Thing as Item;`), the path resolves on through the
//   re-export to the module that defines the item.
// * Not edges: `mod x;` declarations; a module's `pub use` (any `pub(...)` too) of an item of
//   one of its own descendants (a parent's re-export of its child's item does not make the
//   parent depend on the child); anything inside an item marked `#[cfg(test)]` or
//   `#[cfg(all(test, ...))]` (a `mod tests { ... }` block, a `use`, a function) and the files
//   of `#[cfg(test)] mod x;` declarations (not part of the tree at all); a file naming itself.
// * Other `#[cfg(...)]` items (for example `target_arch = "wasm32"`) count: both targets build.
// * Inline `mod x { ... }` blocks are modules of their own for path resolution, but belong to
//   their file in the graph.
//
// Plain Node, no dependencies: run it with any Node >= 18.

import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, basename } from "node:path";
import { fileURLToPath } from "node:url";

let ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function usage(message) {
  console.error(`check-cycles: ${message}\nusage: node scripts/check-cycles.mjs [--allow DIR]... [--edges] [--root DIR]`);
  process.exit(2);
}

const allowed = [];
let printEdges = false;
{
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--root" && i + 1 < args.length) {
      ROOT = resolve(args[++i]);
    } else if (args[i] === "--edges") {
      printEdges = true;
    } else if (args[i] === "--allow" && i + 1 < args.length) {
      allowed.push(args[++i].replace(/\/+$/, "") + "/");
    } else if (args[i].startsWith("--allow=")) {
      allowed.push(args[i].slice("--allow=".length).replace(/\/+$/, "") + "/");
    } else {
      usage(`unknown argument ${JSON.stringify(args[i])}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Cargo.toml: the members and their crate roots (just enough TOML for these manifests).

/** The `[section]` bodies of a TOML file, in order: [{ name, body }]. */
function tomlSections(text) {
  const sections = [{ name: "", body: "" }];
  for (const line of text.split("\n")) {
    const header = line.match(/^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$/);
    if (header) sections.push({ name: header[1], body: "" });
    else sections[sections.length - 1].body += line + "\n";
  }
  return sections;
}

function tomlString(body, key) {
  const match = body.match(new RegExp(`^\\s*${key}\\s*=\\s*"([^"]*)"`, "m"));
  return match ? match[1] : null;
}

function workspaceMembers() {
  const text = readFileSync(join(ROOT, "Cargo.toml"), "utf8");
  const workspace = tomlSections(text).find((s) => s.name === "workspace");
  const members = workspace?.body.match(/^\s*members\s*=\s*\[([^\]]*)\]/m);
  if (!members) usage("no [workspace] members in Cargo.toml");
  return [...members[1].matchAll(/"([^"]*)"/g)].map((m) => m[1]);
}

/** The crate root files of a member directory (relative to ROOT). */
function crateRoots(member) {
  const manifest = join(ROOT, member, "Cargo.toml");
  if (!existsSync(manifest)) return [];
  const sections = tomlSections(readFileSync(manifest, "utf8"));
  const roots = new Set();
  const lib = sections.find((s) => s.name === "lib");
  roots.add(join(member, (lib && tomlString(lib.body, "path")) || "src/lib.rs"));
  roots.add(join(member, "src/main.rs"));
  for (const bin of sections.filter((s) => s.name === "bin")) {
    const path = tomlString(bin.body, "path");
    if (path) roots.add(join(member, path));
  }
  return [...roots].filter((root) => existsSync(join(ROOT, root))).map((r) => relative(ROOT, join(ROOT, r)));
}

// ---------------------------------------------------------------------------------------------
// Lexing: blank comments and literals, keep offsets and newlines.

function blankRange(chars, from, to) {
  for (let k = from; k < to; k++) if (chars[k] !== "\n") chars[k] = " ";
}

/** `text` with comments, strings and char literals replaced by spaces (same length). */
function blankLiterals(text) {
  const chars = text.split("");
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    const next = text[i + 1];
    if (c === "/" && next === "/") {
      let j = i;
      while (j < n && text[j] !== "\n") j++;
      blankRange(chars, i, j);
      i = j;
    } else if (c === "/" && next === "*") {
      let depth = 1;
      let j = i + 2;
      while (j < n && depth > 0) {
        if (text[j] === "/" && text[j + 1] === "*") (depth++, (j += 2));
        else if (text[j] === "*" && text[j + 1] === "/") (depth--, (j += 2));
        else j++;
      }
      blankRange(chars, i, j);
      i = j;
    } else if (/[rb]/.test(c) && !/[A-Za-z0-9_]/.test(text[i - 1] ?? "") && rawStart(text, i)) {
      const { quote, hashes } = rawStart(text, i);
      const close = '"' + "#".repeat(hashes);
      const end = text.indexOf(close, quote + 1);
      const j = end < 0 ? n : end + close.length;
      blankRange(chars, i, j);
      i = j;
    } else if (c === '"') {
      let j = i + 1;
      while (j < n && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      blankRange(chars, i, j + 1);
      i = j + 1;
    } else if (c === "'") {
      // A char literal ('x', '\n', '\u{1F600}', b'x'), or a lifetime / label ('a).
      let j = -1;
      if (next === "\\") {
        j = text.indexOf("'", i + 2);
        if (j > i + 12) j = -1;
      } else {
        const codePoint = text.codePointAt(i + 1);
        const width = codePoint !== undefined && codePoint > 0xffff ? 2 : 1;
        if (text[i + 1 + width] === "'") j = i + 1 + width;
      }
      if (j > 0) {
        blankRange(chars, i, j + 1);
        i = j + 1;
      } else i++;
    } else i++;
  }
  return chars.join("");
}

/** At `i`: `r"`, `r#"`, `br"` or `br#"` (a raw string): where its quote is, how many `#`. */
function rawStart(text, i) {
  let j = i;
  if (text[j] === "b") j++;
  const raw = text[j] === "r";
  if (raw) j++;
  if (!raw) return null;
  let hashes = 0;
  while (text[j] === "#") (hashes++, j++);
  return text[j] === '"' ? { quote: j, hashes } : null;
}

// A byte string `b"..."` is lexed as a plain string (its `b` blanked with it).
function blank(text) {
  return blankLiterals(text.replace(/(?<![A-Za-z0-9_])b"/g, ' "'));
}

/** Index of the bracket closing the one at `open` (`{`, `(` or `[`), or the text's length. */
function matching(code, open) {
  const pairs = { "{": "}", "(": ")", "[": "]" };
  const stack = [];
  for (let k = open; k < code.length; k++) {
    const ch = code[k];
    if (pairs[ch]) stack.push(pairs[ch]);
    else if (ch === "}" || ch === ")" || ch === "]") {
      stack.pop();
      if (stack.length === 0) return k;
    }
  }
  return code.length;
}

/** The end (exclusive) of the item starting at `start`. */
function itemEnd(code, start) {
  const head = code.slice(start, start + 200);
  const untilSemicolon = /^\s*(pub(\s*\([^)]*\))?\s+)?(use|const|static|type|let|extern\s+crate)\b/.test(head);
  for (let k = start; k < code.length; k++) {
    const ch = code[k];
    if (ch === ";") return k + 1;
    if (ch === "(" || ch === "[") k = matching(code, k);
    else if (ch === "{") {
      k = matching(code, k);
      if (!untilSemicolon) return k + 1;
    }
  }
  return code.length;
}

const CFG_TEST = /#\s*\[\s*cfg\s*\(\s*(test\s*\)|all\s*\(\s*test\s*,)/g;

/** Blanks every item marked `#[cfg(test)]`; returns the code and the blanked `mod x;` names. */
function blankTestItems(code) {
  const chars = code.split("");
  const testModules = [];
  for (const match of code.matchAll(CFG_TEST)) {
    if (chars[match.index] === " ") continue; // inside an item already blanked
    const attributeEnd = matching(code, code.indexOf("[", match.index));
    let start = attributeEnd + 1;
    // Further attributes of the same item.
    for (;;) {
      const rest = code.slice(start).match(/^\s*#\s*\[/);
      if (!rest) break;
      start = matching(code, start + rest[0].length - 1) + 1;
    }
    const end = itemEnd(code, start);
    const declared = code.slice(start, end).match(/^\s*(?:pub(?:\s*\([^)]*\))?\s+)?mod\s+([A-Za-z_]\w*)\s*;/);
    if (declared) testModules.push(declared[1]);
    blankRange(chars, match.index, end);
  }
  return { code: chars.join(""), testModules };
}

function lineOf(text, offset) {
  let line = 1;
  for (let k = 0; k < offset; k++) if (text.charCodeAt(k) === 10) line++;
  return line;
}

// ---------------------------------------------------------------------------------------------
// The module tree of one crate.

/**
 * @typedef {{ path: string[], file: string, children: Map<string, string>, reexports: Map<string, Use>,
 *             isModRs: boolean, inline: string[] }} Module   (children: name -> module key)
 * @typedef {{ segments: string[], module: string, pub: boolean, line: number, text: string }} Use
 */

const key = (path) => path.join("::");

function buildTree(rootFile) {
  /** @type {Map<string, Module>} */
  const modules = new Map();
  /** @type {Map<string, { text: string, code: string, scopes: { from: number, to: number, module: string }[] }>} */
  const files = new Map();

  function loadFile(file, modulePath) {
    const text = readFileSync(join(ROOT, file), "utf8");
    const { code } = blankTestItems(blank(text));
    const isModRs = ["lib.rs", "main.rs", "mod.rs"].includes(basename(file)) || file === rootFile;
    const entry = { text, code, scopes: [] };
    files.set(file, entry);
    const top = { path: modulePath, file, children: new Map(), reexports: new Map(), isModRs, inline: [] };
    modules.set(key(modulePath), top);
    entry.scopes.push({ from: 0, to: code.length, module: key(modulePath) });
    // Inline modules first (their ranges say which module each declaration belongs to).
    const declarations = [...code.matchAll(/(?<![\w:])(?:pub(?:\s*\([^)]*\))?\s+)?mod\s+([A-Za-z_]\w*)\s*([;{])/g)];
    const scopeAt = (offset) => {
      let best = entry.scopes[0];
      for (const s of entry.scopes) if (s.from <= offset && offset < s.to && s.to - s.from <= best.to - best.from) best = s;
      return modules.get(best.module);
    };
    for (const d of declarations.filter((d) => d[2] === "{")) {
      const open = d.index + d[0].length - 1;
      entry.scopes.push({ from: open, to: matching(code, open) + 1, module: null, name: d[1], at: d.index });
    }
    // Give inline modules their paths, outermost first.
    for (const s of entry.scopes.slice(1).sort((a, b) => a.from - b.from)) {
      const parent = scopeAt(s.at);
      const path = [...parent.path, s.name];
      s.module = key(path);
      parent.children.set(s.name, s.module);
      modules.set(s.module, { path, file, children: new Map(), reexports: new Map(), isModRs, inline: [...parent.inline, s.name] });
    }
    for (const d of declarations.filter((d) => d[2] === ";")) {
      const parent = scopeAt(d.index);
      const explicit = text.slice(Math.max(0, d.index - 200), d.index).match(/#\s*\[\s*path\s*=\s*"([^"]+)"\s*\]\s*$/);
      const base = parent.isModRs ? dirname(file) : join(dirname(file), basename(file, ".rs"));
      const dir = join(base, ...parent.inline);
      const candidates = explicit
        ? [join(parent.inline.length ? dir : dirname(file), explicit[1])]
        : [join(dir, `${d[1]}.rs`), join(dir, d[1], "mod.rs")];
      const found = candidates.find((c) => existsSync(join(ROOT, c)));
      if (!found) continue; // not compiled here (or a build error cargo reports better)
      const childPath = [...parent.path, d[1]];
      parent.children.set(d[1], key(childPath));
      loadFile(relative(ROOT, join(ROOT, found)), childPath);
    }
    return entry;
  }

  loadFile(rootFile, ["crate"]);
  return { modules, files };
}

// ---------------------------------------------------------------------------------------------
// Uses and paths.

/** Expands the tree of a `use` (the text after `use`, without `;`) into segment lists. */
function expandUseTree(tree) {
  const tokens = tree.match(/[A-Za-z_]\w*|::|[{},*]/g) ?? [];
  let pos = 0;
  const results = [];
  function parseList(prefix) {
    for (;;) {
      if (tokens[pos] === "}" || pos >= tokens.length) return;
      parseTree(prefix);
      if (tokens[pos] === ",") pos++;
      else return;
    }
  }
  function parseTree(prefix) {
    const path = [...prefix];
    if (tokens[pos] === "::") pos++; // a leading `::` (extern crate): kept as is below
    for (;;) {
      const t = tokens[pos];
      if (t === "{") {
        pos++;
        parseList(path);
        if (tokens[pos] === "}") pos++;
        return;
      }
      if (t === "*") {
        pos++;
        results.push({ segments: [...path, "*"], alias: null });
        return;
      }
      if (t === undefined || !/^[A-Za-z_]/.test(t)) return;
      path.push(t);
      pos++;
      if (tokens[pos] === "::") {
        pos++;
        continue;
      }
      let alias = null;
      if (tokens[pos] === "as") {
        pos++;
        alias = tokens[pos++] ?? null;
      }
      results.push({ segments: path, alias });
      return;
    }
  }
  parseList([]);
  return results;
}

/**
 * Resolves `segments` used in module `from` to { module, item } (the deepest module named and
 * the first segment after it), or null when the path leaves the crate.
 */
function resolvePath(modules, from, segments) {
  let current = modules.get(from);
  let k = 0;
  if (segments[0] === "crate") {
    current = modules.get("crate");
    k = 1;
  } else if (segments[0] === "self") {
    k = 1;
  } else if (segments[0] === "super") {
    while (segments[k] === "super") {
      const parentKey = key(current.path.slice(0, -1));
      current = modules.get(parentKey);
      if (!current) return null;
      k++;
    }
  } else if (!current.children.has(segments[0])) {
    return null; // an extern crate, or a name brought into scope some other way
  }
  for (; k < segments.length; k++) {
    const s = segments[k];
    if (s === "self") break;
    const child = current.children.get(s);
    if (!child) return { module: key(current.path), item: s === "*" ? null : s };
    current = modules.get(child);
  }
  return { module: key(current.path), item: null };
}

/** Follows re-exports: the module that defines `item` of `module`. */
function definingModule(modules, resolved, depth = 0) {
  if (!resolved.item || depth > 16) return resolved.module;
  const reexport = modules.get(resolved.module).reexports.get(resolved.item);
  if (!reexport) return resolved.module;
  const next = resolvePath(modules, reexport.module, reexport.segments);
  return next ? definingModule(modules, next, depth + 1) : resolved.module;
}

const isDescendant = (child, parent) => child.startsWith(parent + "::");

/** The edges of one crate: [{ from, to, line, text }] (files relative to ROOT). */
function crateEdges(rootFile) {
  const { modules, files } = buildTree(rootFile);
  const uses = []; // { module, segments, pub, offset, file }
  const codePaths = [];
  for (const [file, entry] of files) {
    const { code, scopes } = entry;
    const moduleAt = (offset) => {
      let best = scopes[0];
      for (const s of scopes) if (s.from <= offset && offset < s.to && s.to - s.from <= best.to - best.from) best = s;
      return best.module;
    };
    const useSpans = [];
    for (const m of code.matchAll(/(?<![\w:$])((?:pub(?:\s*\([^)]*\))?\s+)?)use\s+([^;]*);/g)) {
      useSpans.push([m.index, m.index + m[0].length]);
      const module = moduleAt(m.index);
      for (const { segments, alias } of expandUseTree(m[2])) {
        const use = { module, segments, pub: m[1].trim() !== "", offset: m.index, file };
        uses.push(use);
        const name = alias ?? segments[segments.length - 1];
        if (use.pub && name !== "*" && name !== "self" && alias !== "_") {
          modules.get(module).reexports.set(name, use);
        }
      }
    }
    const inUse = (offset) => useSpans.some(([a, b]) => a <= offset && offset < b);
    for (const m of code.matchAll(/(?<![\w:$])([A-Za-z_]\w*)((?:\s*::\s*[A-Za-z_]\w*)+)/g)) {
      if (inUse(m.index)) continue;
      const module = moduleAt(m.index);
      const first = m[1];
      if (!["crate", "super", "self"].includes(first) && !modules.get(module).children.has(first)) continue;
      const segments = [first, ...m[2].split("::").map((s) => s.trim()).filter(Boolean)];
      codePaths.push({ module, segments, offset: m.index, file });
    }
  }
  const edges = [];
  const add = (site, target) => {
    const to = modules.get(target).file;
    if (to === site.file) return;
    const entry = files.get(site.file);
    const line = lineOf(entry.text, site.offset);
    edges.push({ from: site.file, to, line, text: entry.text.split("\n")[line - 1].trim() });
  };
  for (const use of uses) {
    const resolved = resolvePath(modules, use.module, use.segments);
    if (!resolved) continue;
    // A re-export of a descendant's item is the descendant's, not a dependency of this module.
    if (use.pub && (resolved.module === use.module ? false : isDescendant(resolved.module, use.module))) continue;
    add(use, definingModule(modules, resolved));
  }
  for (const path of codePaths) {
    const resolved = resolvePath(modules, path.module, path.segments);
    if (resolved) add(path, definingModule(modules, resolved));
  }
  return { edges, files: [...files.keys()] };
}

// ---------------------------------------------------------------------------------------------
// Strongly connected components (Tarjan).

function components(nodes, adjacency) {
  let index = 0;
  const indices = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const result = [];
  function visit(v) {
    indices.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of adjacency.get(v) ?? []) {
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), indices.get(w)));
    }
    if (low.get(v) === indices.get(v)) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      result.push(component);
    }
  }
  for (const v of nodes) if (!indices.has(v)) visit(v);
  return result;
}

// ---------------------------------------------------------------------------------------------

let failing = 0;
let allowedCycles = 0;
let crates = 0;
let fileCount = 0;
for (const member of workspaceMembers()) {
  for (const root of crateRoots(member)) {
    crates++;
    const { edges: all, files } = crateEdges(root);
    fileCount += files.length;
    // One entry per line that creates an edge.
    const seen = new Set();
    const edges = all.filter((e) => {
      const id = `${e.from}:${e.line}->${e.to}`;
      return seen.has(id) ? false : (seen.add(id), true);
    });
    if (printEdges) {
      console.log(`edges of ${root}:`);
      for (const e of edges) console.log(`  ${e.from}:${e.line} -> ${e.to}: ${e.text}`);
    }
    const adjacency = new Map();
    for (const e of edges) {
      if (!adjacency.has(e.from)) adjacency.set(e.from, new Set());
      adjacency.get(e.from).add(e.to);
    }
    for (const component of components(files.sort(), adjacency)) {
      if (component.length < 2) continue;
      const members = new Set(component);
      const isAllowed = component.every((f) => allowed.some((dir) => f.startsWith(dir)));
      if (isAllowed) allowedCycles++;
      else failing++;
      console.log(`${isAllowed ? "allowed cycle" : "CYCLE"} in ${root}: ${component.sort().join(", ")}`);
      const inside = edges
        .filter((e) => members.has(e.from) && members.has(e.to))
        .sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to) || a.line - b.line);
      let last = "";
      for (const e of inside) {
        const arrow = `${e.from} -> ${e.to}`;
        if (arrow !== last) console.log(`  ${arrow}`);
        last = arrow;
        console.log(`    ${e.from}:${e.line}: ${e.text}`);
      }
    }
  }
}
const summary = `${crates} crate roots, ${fileCount} files: ${failing} cycle(s)` +
  (allowed.length ? `, ${allowedCycles} allowed under ${allowed.join(" ")}` : "");
console.log(summary);
process.exit(failing > 0 ? 1 : 0);
