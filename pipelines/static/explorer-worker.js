// The explorer's worker: runs DuckDB-WASM (vendored into the site, see pipelines/explorer.py)
// over the release's tables and answers the page's queries with plain rows of text.
// pipelines/site.py copies this file beside the page; the page may start workers from its
// own host only (worker-src 'self').
//
// The tables come as one DuckDB database file made at build time from the release's Parquet
// files (the pinned DuckDB-WASM reads Parquet only through an extension it would download
// from DuckDB's servers). It is fetched from the page's host and attached read-only; then
// DuckDB's access to anything else is switched off for good (no files, no network, no
// extensions): the setting cannot be turned back on while the database runs.
"use strict";

var duckdb = null;
var conn = null;
var DATABASE = "release.duckdb";

function loadLibrary(vendor) {
  // Arrow's UMD build defines self.Arrow; DuckDB's CommonJS build then finds it by require.
  importScripts(vendor + "apache-arrow.js");
  var module = {exports: {}};
  self.module = module;
  self.exports = module.exports;
  self.require = function (name) {
    if (name === "apache-arrow") { return self.Arrow; }
    throw new Error("explorer worker: no module " + name);
  };
  importScripts(vendor + "duckdb-browser.js");
  duckdb = module.exports;
}

async function open(message) {
  loadLibrary(message.vendor);
  var worker = new Worker(message.vendor + "duckdb-browser-eh.worker.js");
  var db = new duckdb.AsyncDuckDB(new duckdb.VoidLogger(), worker);
  await db.instantiate(message.vendor + "duckdb-eh.wasm", null);
  var response = await fetch(message.database);
  if (!response.ok) { throw new Error(message.database + ": HTTP " + response.status); }
  await db.registerFileBuffer(DATABASE, new Uint8Array(await response.arrayBuffer()));
  conn = await db.connect();
  // An extension would be fetched from DuckDB's servers: nothing may leave the host.
  await conn.query("SET autoinstall_known_extensions = false");
  await conn.query("SET autoload_known_extensions = false");
  await conn.query("ATTACH '" + DATABASE + "' AS release (READ_ONLY)");
  await conn.query("USE release");
  await conn.query("SET enable_external_access = false");
  return {version: await db.getVersion()};
}

function rows(table) {
  var columns = table.schema.fields.map(function (field) { return field.name; });
  var vectors = columns.map(function (_, i) { return table.getChildAt(i); });
  var out = new Array(table.numRows);
  for (var r = 0; r < table.numRows; r++) {
    var row = new Array(vectors.length);
    for (var c = 0; c < vectors.length; c++) {
      var value = vectors[c].get(r);
      row[c] = value === null || value === undefined ? null : String(value);
    }
    out[r] = row;
  }
  return {columns: columns, rows: out};
}

async function query(message) {
  return rows(await conn.query(message.sql));
}

// One message at a time, in the order sent.
var queue = Promise.resolve();

self.onmessage = function (event) {
  var message = event.data;
  var run = message.op === "open" ? open : query;
  queue = queue.then(function () { return run(message); }).then(function (result) {
    self.postMessage({id: message.id, ok: true, result: result});
  }, function (error) {
    self.postMessage({id: message.id, ok: false, error: String(error && error.message || error)});
  });
};
