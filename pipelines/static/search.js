// The organisation search of the page: reads the index embedded in the page (or
// search-index.json over HTTP) and filters it by name words or the start of an ИНН/ОГРН;
// each result links to the organisation's page, organisations/<page name>.
// pipelines/site.py inlines this file and allows it by the hash of these bytes in the
// page's Content-Security-Policy.
(function () {
  "use strict";
  var input = document.getElementById("search-input");
  var status = document.getElementById("search-status");
  var body = document.getElementById("search-results-body");
  var records = null;
  var LIMIT = 25;

  function norm(text) {
    return String(text || "").toLowerCase().replace(/ё/g, "е")
      .replace(/["'«»“”„]/g, "").replace(/\s+/g, " ").trim();
  }
  function rub(value) {
    return new Intl.NumberFormat("ru-RU", {maximumFractionDigits: 0}).format(value) + "\u00a0₽";
  }
  function prepare(list) {
    list.forEach(function (r) { r._name = norm(r.name); });
    return list;
  }
  function load() {
    var embedded = document.getElementById("search-index");
    if (embedded) {
      return Promise.resolve(prepare(JSON.parse(embedded.textContent)));
    }
    return fetch("search-index.json").then(function (response) {
      if (!response.ok) { throw new Error(response.status); }
      return response.json();
    }).then(prepare);
  }
  function find(query) {
    var q = norm(query);
    if (!q) { return []; }
    var digits = q.replace(/\s/g, "");
    if (/^\d+$/.test(digits)) {
      return records.filter(function (r) {
        return (r.inn && r.inn.indexOf(digits) === 0) || (r.ogrn && r.ogrn.indexOf(digits) === 0);
      });
    }
    var words = q.split(" ");
    return records.filter(function (r) {
      return words.every(function (w) { return r._name.indexOf(w) !== -1; });
    });
  }
  // The page name of an organisation key, as pipelines/organisations.py page_name makes it:
  // a-z and 0-9 as they are, ":" as "-", every other UTF-8 byte as "_" and two hex digits.
  function pageName(key) {
    var bytes = new TextEncoder().encode(key);
    var out = "";
    for (var i = 0; i < bytes.length; i++) {
      var b = bytes[i];
      if ((b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39)) {
        out += String.fromCharCode(b);
      } else if (b === 0x3a) {
        out += "-";
      } else {
        out += "_" + (b < 16 ? "0" : "") + b.toString(16);
      }
    }
    return out + ".html";
  }
  function linkCell(row, text, href) {
    var td = document.createElement("td");
    var a = document.createElement("a");
    a.href = href;
    a.className = "organisation-link";
    a.textContent = text;
    td.appendChild(a);
    row.appendChild(td);
  }
  function cell(row, text, className) {
    var td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "—" : String(text);
    if (className) { td.className = className; }
    row.appendChild(td);
  }
  function show(query) {
    body.textContent = "";
    if (!records) { return; }
    var found = find(query);
    found.slice(0, LIMIT).forEach(function (r) {
      var row = document.createElement("tr");
      row.className = "search-hit";
      linkCell(row, r.name, "organisations/" + pageName(r.key));
      cell(row, r.inn);
      cell(row, r.ogrn);
      cell(row, r.region);
      cell(row, r.grants, "num");
      cell(row, rub(r.total), "num");
      body.appendChild(row);
    });
    if (!norm(query)) {
      status.textContent = "Организаций в указателе: " + records.length + ".";
    } else if (!found.length) {
      status.textContent = "Ничего не найдено.";
    } else {
      status.textContent = "Найдено: " + found.length +
        (found.length > LIMIT ? ", показаны первые " + LIMIT : "") + ".";
    }
  }
  function fromHash() {
    var match = /^#q=(.*)$/.exec(location.hash);
    if (!match) { return ""; }
    try { return decodeURIComponent(match[1]); } catch (err) { return match[1]; }
  }
  load().then(function (list) {
    records = list;
    var initial = fromHash();
    if (initial) { input.value = initial; }
    show(input.value);
  }).catch(function () {
    status.textContent = "Указатель не загрузился: откройте страницу через «socfund serve» " +
      "или скачайте search-index.json.";
  });
  input.addEventListener("input", function () { show(input.value); });
  window.addEventListener("hashchange", function () {
    input.value = fromHash();
    show(input.value);
  });
})();
