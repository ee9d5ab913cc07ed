// The one result type of every check: a named finding with a status; a
// port of verifiable/findings.py. A finding is {name, status, detail,
// expected, found, where}: status "ok", "FAIL", "pending" or "skip", and
// expected/found/where strings ("" when none), as the Python Finding holds
// them. A name is its stable check id.

export const OK = "ok";
export const FAIL = "FAIL";
export const PENDING = "pending";
export const SKIP = "skip";

// Finding.failure: expected and found are made strings, as Python's str().
function text(value) {
  return value === undefined || value === null ? "" : String(value);
}

export function finding(name, status, detail, expected = "", found = "", where = "") {
  return Object.freeze({ name, status, detail, expected: text(expected), found: text(found), where: text(where) });
}

export function passed(name, detail) {
  return finding(name, OK, detail);
}

export function failure(name, detail, expected = "", found = "", where = "") {
  return finding(name, FAIL, detail, expected, found, where);
}

// Collects findings by name: the first failure of a name wins, else its
// last passing detail; names keep the order they were first seen in.
export class Findings {
  constructor() {
    this._order = [];
    this._failed = new Map();
    this._passed = new Map();
  }

  _see(name) {
    if (!this._failed.has(name) && !this._passed.has(name)) this._order.push(name);
  }

  ok(name, detail) {
    this._see(name);
    this._passed.set(name, detail);
  }

  fail(name, detail, expected = "", found = "", where = "") {
    this._see(name);
    if (!this._failed.has(name)) this._failed.set(name, failure(name, detail, expected, found, where));
  }

  failed(name) {
    return this._failed.has(name);
  }

  // Python's extend: a finding that is not ok (FAIL, and also pending or
  // skip) is recorded as a failure, as Findings.extend does.
  extend(findings) {
    for (const f of findings) {
      if (f.status === OK) this.ok(f.name, f.detail);
      else this.fail(f.name, f.detail, f.expected, f.found, f.where);
    }
  }

  result() {
    return this._order.map((name) => this._failed.get(name) ?? passed(name, this._passed.get(name)));
  }
}
