// The pool math's equivalence cases in the page: a function of the batch
// (page.evaluate calls it), each case run through the modules of
// server/verifier/js and given back as {verdict, value}, with integers and
// times as decimal strings and bytes as hex, as pool_math_cases.normal
// writes what verifiable/ says.
async (cases) => {
  const errors = await import("/js/errors.js");
  const encoding = await import("/js/encoding.js");
  const rules = await import("/js/rules.js");

  function normal(value) {
    if (value === null || typeof value === "boolean" || typeof value === "string") return value;
    if (typeof value === "number" || typeof value === "bigint") return String(value);
    if (value instanceof Uint8Array) return encoding.toHex(value);
    if (Array.isArray(value)) return value.map(normal);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normal(v)]));
  }

  function probeRules(r, p) {
    return {
      json: r.to_json(),
      quorum: p.panels.map((n) => r.quorum(n)),
      approves: p.votes.map(([a, v]) => r.approves(a, v)),
      fee: p.aids.map((a) => r.fee(a)),
      capped: p.shares.map(([s, c]) => r.capped_share(s, c)),
      deduction: p.dates.map((d) => r.deduction_date(d)),
      cap: p.bands.map((b) => r.cap(b)),
      objection_allowed: p.earlier.map((n) => r.objection_allowed(n)),
      windows: p.times.map((t) => [
        r.covered_from(t),
        r.seasoned_from(t),
        r.objections_until(t),
        r.votes_until(t),
        r.appeal_until(t),
        rules.nextNotice(t, r),
      ]),
      panel: [r.appeals, r.appeal_panel_size, r.panel_size_for(false), r.panel_size_for(true)],
    };
  }

  const RUNNERS = {
    async rulebook(c) {
      const book = new rules.Rulebook();
      for (const e of c.entries) {
        const body = Object.freeze({ effective: e.effective, rules: e.rules, reason: "r" });
        book.adopt(await book.propose(e.seq, e.time, body));
      }
      const changes = book.changes;
      return {
        in_force: c.times.map((t) => changes.findIndex((ch) => ch.rules === book.in_force(t))),
        changes: changes.map((ch) => [ch.seq, ch.effective, probeRules(ch.rules, c.probe)]),
      };
    },
  };

  async function one(c) {
    try {
      return { verdict: "ok", value: normal(await RUNNERS[c.kind](c)) };
    } catch (e) {
      if (e instanceof rules.RuleViolation) return { verdict: "verification", value: e.rule };
      if (e instanceof errors.MalformedError) return { verdict: "malformed", value: null };
      if (e instanceof errors.VerificationError) return { verdict: "verification", value: null };
      return { verdict: "bug", value: `${e.name}: ${e.message}` };
    }
  }

  const out = [];
  for (let i = 0; i < cases.length; i += 128) {
    out.push(...(await Promise.all(cases.slice(i, i + 128).map(one))));
  }
  return out;
}
