// The explorer of the page: filters grants (fact_grant) or funding figures (fact_funding),
// shows the matching rows with their totals, sorts, pages, and downloads the selection as
// CSV (the release's rules: UTF-8 with BOM, CRLF, text a spreadsheet would take for a formula
// prefixed with ') and as the SQL that produced it. The filters live in the page's query
// string, so a link reproduces a selection. The SQL tab runs any query over the same tables.
// DuckDB-WASM runs in explorer-worker.js over the release's tables (its Parquet files, as
// pipelines/explorer.py hands them to the browser). pipelines/site.py inlines this file and
// allows it by the hash of these bytes in the Content-Security-Policy.
(function () {
  "use strict";
  var configElement = document.getElementById("explorer-config");
  var root = document.getElementById("explorer-app");
  if (!configElement || !root || typeof Worker === "undefined" ||
      typeof WebAssembly === "undefined") { return; }
  var config = JSON.parse(configElement.textContent);
  var PAGE_SIZE = 50;
  var SQL_LIMIT = 1000;
  var FORMULA_TRIGGERS = ["=", "+", "-", "@", "\t", "\r"];
  var FIELDS = ["region", "from", "to", "funder", "programme", "source", "org", "status",
                "min", "max"];

  // What each dataset selects: its columns (name, SQL, kind, heading), what the filters
  // compare, and which columns the table on the page shows.
  var DATASETS = {
    grants: {
      table: "fact_grant", alias: "g", id: "grant_id", amount: "amount_awarded",
      statusColumn: "status", statusLabel: "Статус",
      uses: ["fact_grant", "fact_funding", "dim_organisation", "dim_region", "dim_programme"],
      prelude: "WITH real_rub AS (\n" +
        "    -- Real rubles of a grant: its budget rows in fact_funding, CPI-deflated\n" +
        "    SELECT grant_id, sum(amount_real) AS amount_real\n" +
        "    FROM fact_funding\n" +
        "    WHERE grant_id IS NOT NULL AND funding_group = 'budget'\n" +
        "    GROUP BY grant_id\n" +
        "),\n",
      from: "fact_grant AS g\n" +
        "    LEFT JOIN dim_organisation AS o ON o.organisation_key = g.organisation_key\n" +
        "    LEFT JOIN dim_region AS r ON r.region_code = g.region_code\n" +
        "    LEFT JOIN dim_programme AS p ON p.programme_id = g.programme_id\n" +
        "    LEFT JOIN real_rub ON real_rub.grant_id = g.grant_id",
      names: "concat_ws(' ', g.recipient_name, o.name)",
      identifiers: ["g.inn", "g.ogrn", "o.inn", "o.ogrn"],
      columns: [
        ["grant_id", "g.grant_id", "text"],
        ["year", "g.year", "number", "Год"],
        ["source", "g.source", "text", "Источник"],
        ["funder", "p.funder", "text", "Грантодатель"],
        ["programme", "p.name", "text", "Программа"],
        ["recipient_name", "g.recipient_name", "text", "Получатель"],
        ["inn", "g.inn", "text", "ИНН"],
        ["ogrn", "g.ogrn", "text"],
        ["region_code", "g.region_code", "text"],
        ["region", "r.name", "text", "Регион"],
        ["status", "g.status", "text", "Статус"],
        ["amount_awarded", "g.amount_awarded", "number", "Сумма, ₽"],
        ["amount_real", "real_rub.amount_real", "number", "В реальных ₽"],
        ["currency", "g.currency", "text"],
        ["title", "g.title", "text"],
        ["organisation_key", "g.organisation_key", "text"],
        ["source_url", "g.source_url", "text"]
      ]
    },
    funding: {
      table: "fact_funding", alias: "f", id: "funding_id", amount: "amount_rub",
      statusColumn: "funding_kind", statusLabel: "Вид средств",
      uses: ["fact_funding", "dim_organisation", "dim_region", "dim_programme"],
      prelude: "WITH ",
      from: "fact_funding AS f\n" +
        "    LEFT JOIN dim_organisation AS o ON o.organisation_key = f.organisation_key\n" +
        "    LEFT JOIN dim_region AS r ON r.region_code = f.region_code\n" +
        "    LEFT JOIN dim_programme AS p ON p.programme_id = f.programme_id",
      names: "o.name",
      identifiers: ["o.inn", "o.ogrn"],
      columns: [
        ["funding_id", "f.funding_id", "text"],
        ["year", "f.year", "number", "Год"],
        ["source", "f.source", "text", "Источник"],
        ["funder", "p.funder", "text", "Грантодатель"],
        ["programme", "p.name", "text", "Программа"],
        ["funding_kind", "f.funding_kind", "text", "Вид средств"],
        ["organisation", "o.name", "text", "Организация"],
        ["inn", "o.inn", "text", "ИНН"],
        ["ogrn", "o.ogrn", "text"],
        ["region_code", "f.region_code", "text"],
        ["region", "r.name", "text", "Регион"],
        ["municipality", "f.municipality", "text"],
        ["amount", "f.amount", "number"],
        ["currency", "f.currency", "text"],
        ["amount_rub", "f.amount_rub", "number", "Сумма, ₽"],
        ["amount_real", "f.amount_real", "number", "В реальных ₽"],
        ["organisation_key", "f.organisation_key", "text"],
        ["grant_id", "f.grant_id", "text"],
        ["source_url", "f.source_url", "text"]
      ]
    }
  };

  function element(id) { return document.getElementById(id); }
  var form = element("explorer-form");
  var stateLine = element("explorer-state");
  var tableHead = element("explorer-head");
  var tableBody = element("explorer-body");
  var pager = element("explorer-pager");
  var sqlInput = element("explorer-sql-input");
  var sqlState = element("explorer-sql-state");

  // --- the worker ----------------------------------------------------------------------

  var worker = new Worker(config.worker);
  var pending = {};
  var nextId = 1;
  worker.onmessage = function (event) {
    var answer = event.data;
    var waiting = pending[answer.id];
    delete pending[answer.id];
    if (answer.ok) { waiting.resolve(answer.result); } else {
      waiting.reject(new Error(answer.error));
    }
  };
  function ask(message) {
    return new Promise(function (resolve, reject) {
      message.id = nextId++;
      pending[message.id] = {resolve: resolve, reject: reject};
      worker.postMessage(message);
    });
  }
  function absolute(path) { return new URL(path, document.baseURI).href; }
  function query(sql) { return ask({op: "query", sql: sql}); }

  // --- SQL text ------------------------------------------------------------------------

  function quoteText(text) { return "'" + String(text).replace(/'/g, "''") + "'"; }
  function fold(text) { return String(text).toLowerCase().replace(/ё/g, "е").trim(); }
  function year(text) { return /^\d{4}$/.test(text) ? text : null; }
  function amount(text) {
    var clean = String(text).replace(/[\s\u00a0]/g, "").replace(",", ".");
    return /^\d+(\.\d+)?$/.test(clean) ? clean : null;
  }
  function neutralised(expr) {
    var triggers = FORMULA_TRIGGERS.map(function (c) {
      return "chr(" + c.charCodeAt(0) + ")";
    }).join(", ");
    return "CASE WHEN left(" + expr + ", 1) IN (" + triggers + ") THEN '''' || " + expr +
      " ELSE " + expr + " END";
  }

  function conditions(ds, state) {
    var t = ds.alias;
    var out = [];
    if (state.region) { out.push(t + ".region_code = " + quoteText(state.region)); }
    if (year(state.from)) { out.push(t + ".year >= " + year(state.from)); }
    if (year(state.to)) { out.push(t + ".year <= " + year(state.to)); }
    if (state.funder) { out.push("p.funder = " + quoteText(state.funder)); }
    if (fold(state.programme)) {
      var p = quoteText(fold(state.programme));
      out.push("(contains(replace(lower(p.name), 'ё', 'е'), " + p + ") OR " +
               "contains(lower(" + t + ".programme_id), " + p + "))");
    }
    if (state.source) { out.push(t + ".source = " + quoteText(state.source)); }
    var org = fold(state.org);
    var digits = org.replace(/\s/g, "");
    if (/^\d+$/.test(digits)) {
      out.push("(" + ds.identifiers.map(function (c) {
        return "starts_with(" + c + ", " + quoteText(digits) + ")";
      }).join(" OR ") + ")");
    } else if (org) {
      org.split(/\s+/).forEach(function (word) {
        out.push("contains(replace(lower(" + ds.names + "), 'ё', 'е'), " + quoteText(word) +
                 ")");
      });
    }
    if (state.status) { out.push(t + "." + ds.statusColumn + " = " + quoteText(state.status)); }
    if (amount(state.min)) { out.push(t + "." + ds.amount + " >= " + amount(state.min)); }
    if (amount(state.max)) { out.push(t + "." + ds.amount + " <= " + amount(state.max)); }
    return out;
  }

  function sortColumn(ds, state) {
    var names = ds.columns.filter(function (c) { return c[3]; }).map(function (c) {
      return c[0];
    });
    return names.indexOf(state.sort) >= 0 ? state.sort : ds.amount;
  }

  // The selection as SQL: `forFile` gives the text the CSV holds (spreadsheet-safe text),
  // otherwise every value as it is, as text, for the page to format.
  function selectionSql(ds, state, forFile) {
    var where = conditions(ds, state);
    var select = ds.columns.map(function (c) {
      return "        " + c[1] + " AS " + c[0];
    }).join(",\n");
    var output = ds.columns.map(function (c) {
      var value = "CAST(selection." + c[0] + " AS VARCHAR)";
      return "    " + (forFile && c[2] === "text" ? neutralised(value) : value) + " AS " + c[0];
    }).join(",\n");
    var direction = state.dir === "asc" ? "ASC" : "DESC";
    return ds.prelude + "selection AS (\n    SELECT\n" + select + "\n    FROM " + ds.from +
      (where.length ? "\n    WHERE " + where.join("\n      AND ") : "") + "\n)\n" +
      "SELECT\n" + output + "\nFROM selection\n" +
      "ORDER BY selection." + sortColumn(ds, state) + " " + direction + " NULLS LAST, " +
      "selection." + ds.id;
  }

  function totalsSql(ds, state) {
    var where = conditions(ds, state);
    return ds.prelude + "selection AS (\n    SELECT " + ds.alias + "." + ds.amount +
      " AS amount, " + (ds.alias === "g" ? "real_rub" : "f") + ".amount_real\n    FROM " +
      ds.from + (where.length ? "\n    WHERE " + where.join("\n      AND ") : "") + "\n)\n" +
      "SELECT CAST(count(*) AS VARCHAR), CAST(coalesce(sum(amount), 0) AS VARCHAR),\n" +
      "       CAST(coalesce(sum(amount_real), 0) AS VARCHAR),\n" +
      "       CAST(count(*) FILTER (WHERE amount IS NOT NULL AND amount_real IS NULL) " +
      "AS VARCHAR)\nFROM selection";
  }

  // --- the state in the URL ------------------------------------------------------------

  function readState() {
    var params = new URLSearchParams(location.search);
    var state = {ds: params.get("ds") === "funding" ? "funding" : "grants",
                 sort: params.get("sort") || "", dir: params.get("dir") === "asc" ? "asc" : "desc",
                 page: Math.max(1, parseInt(params.get("page"), 10) || 1),
                 tab: params.get("tab") === "sql" ? "sql" : "filter",
                 sql: params.get("sql") || ""};
    FIELDS.forEach(function (name) { state[name] = params.get(name) || ""; });
    return state;
  }

  function writeState(state) {
    var params = new URLSearchParams();
    if (state.ds !== "grants") { params.set("ds", state.ds); }
    FIELDS.forEach(function (name) { if (state[name]) { params.set(name, state[name]); } });
    if (state.sort) { params.set("sort", state.sort); }
    if (state.dir === "asc") { params.set("dir", "asc"); }
    if (state.page > 1) { params.set("page", String(state.page)); }
    if (state.tab === "sql") { params.set("tab", "sql"); }
    if (state.tab === "sql" && state.sql) { params.set("sql", state.sql); }
    var search = params.toString();
    var url = location.pathname + (search ? "?" + search : "") + "#explorer";
    history.replaceState(null, "", url);
    element("explorer-link").href = location.href;
  }

  // --- formatting ----------------------------------------------------------------------

  var wholeRubles = new Intl.NumberFormat("ru-RU", {maximumFractionDigits: 0});
  function rubles(text) {
    return text === null ? "—" : wholeRubles.format(Number(text)) + "\u00a0₽";
  }
  function count(text) { return wholeRubles.format(Number(text)); }

  // The page name of an organisation, by the rule of pipelines/organisations.py: a–z and
  // digits as they are, ":" as "-", every other byte of the UTF-8 as "_" and two hex digits.
  function pageName(key) {
    var bytes = new TextEncoder().encode(key);
    var out = "";
    for (var i = 0; i < bytes.length; i++) {
      var b = bytes[i];
      if ((b >= 97 && b <= 122) || (b >= 48 && b <= 57)) {
        out += String.fromCharCode(b);
      } else if (b === 58) {
        out += "-";
      } else {
        out += "_" + (b < 16 ? "0" : "") + b.toString(16);
      }
    }
    return out + ".html";
  }

  // --- the filters ---------------------------------------------------------------------

  var state = readState();
  var options = {};

  function fillSelect(select, values, chosen) {
    var keep = select.options[0];
    select.textContent = "";
    select.appendChild(keep);
    var seen = false;
    values.forEach(function (pair) {
      var option = document.createElement("option");
      option.value = pair[0];
      option.textContent = pair[1];
      if (pair[0] === chosen) { seen = true; }
      select.appendChild(option);
    });
    // A link from another release may name a value this one lacks: keep it, selecting none.
    if (chosen && !seen) {
      var missing = document.createElement("option");
      missing.value = chosen;
      missing.textContent = chosen + " (нет в этом выпуске)";
      select.appendChild(missing);
    }
    select.value = chosen;
  }

  function loadOptions(dsName) {
    if (options[dsName]) { return Promise.resolve(options[dsName]); }
    var ds = DATASETS[dsName];
    var t = ds.alias;
    var base = ds.table + " AS " + t;
    var lists = {
      region: "SELECT DISTINCT " + t + ".region_code, coalesce(r.name, " + t + ".region_code) " +
        "FROM " + base + " JOIN dim_region AS r ON r.region_code = " + t + ".region_code " +
        "ORDER BY 2, 1",
      funder: "SELECT DISTINCT p.funder, p.funder FROM " + base + " JOIN dim_programme AS p " +
        "ON p.programme_id = " + t + ".programme_id WHERE p.funder IS NOT NULL ORDER BY 1",
      source: "SELECT DISTINCT source, source FROM " + base + " WHERE source IS NOT NULL " +
        "ORDER BY 1",
      status: "SELECT DISTINCT " + ds.statusColumn + ", " + ds.statusColumn + " FROM " + base +
        " WHERE " + ds.statusColumn + " IS NOT NULL ORDER BY 1"
    };
    var names = Object.keys(lists);
    return Promise.all(names.map(function (name) {
      return query(lists[name]);
    })).then(function (results) {
      var found = {};
      names.forEach(function (name, i) { found[name] = results[i].rows; });
      options[dsName] = found;
      return found;
    });
  }

  function showFilters() {
    var lists = options[state.ds];
    form.elements.ds.value = state.ds;
    element("explorer-status-label").textContent = DATASETS[state.ds].statusLabel;
    ["region", "funder", "source", "status"].forEach(function (name) {
      fillSelect(form.elements[name], lists[name], state[name]);
    });
    ["from", "to", "programme", "org", "min", "max"].forEach(function (name) {
      form.elements[name].value = state[name];
    });
  }

  function readForm() {
    var next = {ds: form.elements.ds.value === "funding" ? "funding" : "grants",
                sort: state.sort, dir: state.dir, page: 1, tab: state.tab, sql: state.sql};
    FIELDS.forEach(function (name) { next[name] = form.elements[name].value.trim(); });
    if (next.ds !== state.ds) {
      ["region", "funder", "source", "status"].forEach(function (name) { next[name] = ""; });
      next.sort = "";
    }
    return next;
  }

  // --- the table -----------------------------------------------------------------------

  function heading(ds) {
    tableHead.textContent = "";
    var row = document.createElement("tr");
    var sorted = sortColumn(ds, state);
    ds.columns.forEach(function (c) {
      if (!c[3]) { return; }
      var th = document.createElement("th");
      if (c[2] === "number") { th.className = "num"; }
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      button.dataset.column = c[0];
      button.textContent = c[3] + (c[0] === sorted ? (state.dir === "asc" ? " ▲" : " ▼") : "");
      th.setAttribute("aria-sort", c[0] === sorted ?
        (state.dir === "asc" ? "ascending" : "descending") : "none");
      th.appendChild(button);
      row.appendChild(th);
    });
    tableHead.appendChild(row);
  }

  function cell(row, text, className) {
    var td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "—" : text;
    if (className) { td.className = className; }
    row.appendChild(td);
    return td;
  }

  function showRows(ds, result) {
    tableBody.textContent = "";
    var at = {};
    result.columns.forEach(function (name, i) { at[name] = i; });
    var nameColumn = ds.alias === "g" ? "recipient_name" : "organisation";
    result.rows.forEach(function (values) {
      var row = document.createElement("tr");
      row.className = "explorer-row";
      ds.columns.forEach(function (c) {
        if (!c[3]) { return; }
        var value = values[at[c[0]]];
        if (c[0] === nameColumn && values[at.organisation_key] !== null) {
          var td = cell(row, "");
          var link = document.createElement("a");
          link.href = config.organisations + pageName(values[at.organisation_key]);
          link.textContent = value === null ? values[at.organisation_key] : value;
          td.appendChild(link);
        } else if (c[2] === "number" && c[0] !== "year") {
          cell(row, rubles(value), "num");
        } else {
          cell(row, value, c[2] === "number" ? "num" : "");
        }
      });
      tableBody.appendChild(row);
    });
  }

  function showTotals(totals) {
    var values = totals.rows[0];
    var figures = [["explorer-count", values[0], count(values[0])],
                   ["explorer-nominal", values[1], rubles(values[1])],
                   ["explorer-real", values[2], rubles(values[2])]];
    figures.forEach(function (f) {
      var node = element(f[0]);
      node.dataset.value = f[1];
      node.textContent = f[2];
    });
    element("explorer-real-note").textContent = Number(values[3]) > 0 ?
      "Строк без пересчёта в реальные рубли: " + count(values[3]) + "." : "";
    return Number(values[0]);
  }

  function showPager(rows) {
    var pages = Math.max(1, Math.ceil(rows / PAGE_SIZE));
    element("explorer-page").textContent = "Страница " + state.page + " из " + pages;
    element("explorer-prev").disabled = state.page <= 1;
    element("explorer-next").disabled = state.page >= pages;
    pager.hidden = false;
  }

  var generation = 0;
  function refresh() {
    var mine = ++generation;
    var ds = DATASETS[state.ds];
    writeState(state);
    root.dataset.ready = "false";
    stateLine.textContent = "Отбираю строки…";
    return loadOptions(state.ds).then(function () {
      if (mine !== generation) { return null; }
      showFilters();
      return query(totalsSql(ds, state));
    }).then(function (totals) {
      if (totals === null || mine !== generation) { return null; }
      var rows = showTotals(totals);
      var pages = Math.max(1, Math.ceil(rows / PAGE_SIZE));
      if (state.page > pages) { state.page = pages; writeState(state); }
      showPager(rows);
      return query(selectionSql(ds, state, false) + "\nLIMIT " + PAGE_SIZE + " OFFSET " +
                   (state.page - 1) * PAGE_SIZE);
    }).then(function (result) {
      if (result === null || mine !== generation) { return; }
      heading(ds);
      showRows(ds, result);
      element("explorer-sql-text").textContent = selectionSql(ds, state, true) + ";";
      stateLine.textContent = "Готово.";
      root.dataset.ready = "true";
    }, function (error) {
      stateLine.textContent = "Ошибка: " + error.message;
    });
  }

  // --- downloads -----------------------------------------------------------------------

  function csvField(value) {
    if (value === null) { return ""; }
    if (value === "" || /[",\r\n]/.test(value)) { return "\"" + value.replace(/"/g, "\"\"") + "\""; }
    return value;
  }

  function save(text, name, type) {
    var blob = new Blob([text], {type: type});
    var link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(link.href); }, 0);
  }

  function fileName(extension) {
    return "socfund-" + config.release + "-" + DATASETS[state.ds].table + "-selection." +
      extension;
  }

  function downloadCsv() {
    var ds = DATASETS[state.ds];
    stateLine.textContent = "Готовлю CSV…";
    query(selectionSql(ds, state, true)).then(function (result) {
      var lines = [result.columns.map(csvField).join(",")];
      result.rows.forEach(function (row) { lines.push(row.map(csvField).join(",")); });
      save("\ufeff" + lines.join("\r\n") + "\r\n", fileName("csv"), "text/csv;charset=utf-8");
      stateLine.textContent = "CSV: строк " + count(result.rows.length) + ".";
    }, function (error) {
      stateLine.textContent = "Ошибка: " + error.message;
    });
  }

  function downloadSql() {
    var ds = DATASETS[state.ds];
    var views = ds.uses.map(function (name) {
      return "--   CREATE VIEW " + name + " AS SELECT * FROM 'parquet/" + name + ".parquet';";
    }).join("\n");
    var text = "-- socfund, release " + config.release + ": the explorer's selection of " +
      ds.table + ".\n-- " + location.href + "\n" +
      "-- Run it on the release's socfund.duckdb (duckdb -readonly socfund.duckdb), or in\n" +
      "-- DuckDB in the release folder after making views over its Parquet files:\n" +
      views + "\n" + selectionSql(ds, state, true) + ";\n";
    save(text, fileName("sql"), "application/sql;charset=utf-8");
  }

  // --- the SQL tab ---------------------------------------------------------------------

  function showTab(tab) {
    state.tab = tab;
    element("explorer-filter-panel").hidden = tab !== "filter";
    element("explorer-sql-panel").hidden = tab !== "sql";
    element("explorer-tab-filter").setAttribute("aria-selected", String(tab === "filter"));
    element("explorer-tab-sql").setAttribute("aria-selected", String(tab === "sql"));
    writeState(state);
  }

  var sqlResult = null;
  var sqlRuns = 0;
  function sqlDone(text) {
    sqlState.textContent = text;
    sqlState.dataset.runs = String(++sqlRuns);
  }
  function runSql() {
    var text = sqlInput.value.replace(/[\s;]+$/, "");
    state.sql = text;
    writeState(state);
    if (!text) { return; }
    sqlState.textContent = "Выполняю…";
    // Inside a subquery only a query can run: no statement that changes the database.
    var wrapped = "SELECT COLUMNS(*)::VARCHAR FROM (\n" + text + "\n) LIMIT " + (SQL_LIMIT + 1);
    query(wrapped).then(function (result) {
      var more = result.rows.length > SQL_LIMIT;
      sqlResult = {columns: result.columns, rows: result.rows.slice(0, SQL_LIMIT)};
      var head = element("explorer-sql-head");
      var body = element("explorer-sql-body");
      head.textContent = "";
      body.textContent = "";
      var tr = document.createElement("tr");
      result.columns.forEach(function (name) {
        var th = document.createElement("th");
        th.textContent = name;
        tr.appendChild(th);
      });
      head.appendChild(tr);
      sqlResult.rows.forEach(function (values) {
        var row = document.createElement("tr");
        values.forEach(function (value) { cell(row, value === null ? "NULL" : value); });
        body.appendChild(row);
      });
      element("explorer-sql-csv").disabled = false;
      sqlDone("Строк: " + count(sqlResult.rows.length) +
              (more ? " (показаны первые " + count(SQL_LIMIT) + ")" : "") + ".");
    }, function (error) {
      sqlDone("Ошибка: " + error.message);
    });
  }

  function downloadSqlResult() {
    if (!sqlResult) { return; }
    var lines = [sqlResult.columns.map(csvField).join(",")];
    sqlResult.rows.forEach(function (row) {
      lines.push(row.map(function (value) {
        return csvField(value !== null && FORMULA_TRIGGERS.indexOf(value.charAt(0)) >= 0 ?
          "'" + value : value);
      }).join(","));
    });
    save("\ufeff" + lines.join("\r\n") + "\r\n", "socfund-" + config.release + "-query.csv",
         "text/csv;charset=utf-8");
  }

  // --- wiring --------------------------------------------------------------------------

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    state = readForm();
    refresh();
  });
  form.addEventListener("reset", function (event) {
    event.preventDefault();
    var ds = state.ds;
    state = {ds: ds, sort: "", dir: "desc", page: 1, tab: state.tab, sql: state.sql};
    FIELDS.forEach(function (name) { state[name] = ""; });
    refresh();
  });
  form.elements.ds.forEach(function (radio) {
    radio.addEventListener("change", function () { state = readForm(); refresh(); });
  });
  tableHead.addEventListener("click", function (event) {
    var button = event.target.closest("button.sort");
    if (!button) { return; }
    var column = button.dataset.column;
    if (sortColumn(DATASETS[state.ds], state) === column) {
      state.dir = state.dir === "asc" ? "desc" : "asc";
    } else {
      state.dir = column === "year" || DATASETS[state.ds].columns.some(function (c) {
        return c[0] === column && c[2] === "number";
      }) ? "desc" : "asc";
    }
    state.sort = column;
    state.page = 1;
    refresh();
  });
  element("explorer-prev").addEventListener("click", function () {
    state.page = Math.max(1, state.page - 1);
    refresh();
  });
  element("explorer-next").addEventListener("click", function () {
    state.page += 1;
    refresh();
  });
  element("explorer-csv").addEventListener("click", downloadCsv);
  element("explorer-sql-download").addEventListener("click", downloadSql);
  element("explorer-tab-filter").addEventListener("click", function () { showTab("filter"); });
  element("explorer-tab-sql").addEventListener("click", function () { showTab("sql"); });
  element("explorer-sql-run").addEventListener("click", runSql);
  element("explorer-sql-csv").addEventListener("click", downloadSqlResult);

  root.hidden = false;
  stateLine.textContent = "Загружаю DuckDB-WASM и таблицы выпуска…";
  ask({op: "open", vendor: absolute(config.vendor), database: absolute(config.database)}).then(function (opened) {
    element("explorer-engine").textContent = "DuckDB " + opened.version;
    query("SELECT CAST(max(real_base_year) AS VARCHAR) FROM fact_funding").then(function (r) {
      var base = r.rows.length ? r.rows[0][0] : null;
      element("explorer-real-base").textContent = base ? " (цены " + base + " г.)" : "";
    });
    if (state.sql) { sqlInput.value = state.sql; }
    showTab(state.tab);
    if (state.tab === "sql" && state.sql) { runSql(); }
    return refresh();
  }, function (error) {
    stateLine.textContent = "Обозреватель не запустился: " + error.message;
  });
}());
