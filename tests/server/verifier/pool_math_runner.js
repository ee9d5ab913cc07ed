// The pool math's equivalence cases in the page: a function of the batch
// (page.evaluate calls it), each case run through the modules of
// server/verifier/js and given back as {verdict, value}, with integers and
// times as decimal strings and bytes as hex, as pool_math_cases.normal
// writes what verifiable/ says.
async (cases) => {
  const errors = await import("/js/errors.js");
  const encoding = await import("/js/encoding.js");
  const rules = await import("/js/rules.js");
  const periods = await import("/js/periods.js");
  const roster = await import("/js/roster.js");
  const sortition = await import("/js/sortition.js");
  const votes = await import("/js/votes.js");
  const witnessed = await import("/js/witnessed.js");
  const hex = (s) => (/^(?:[0-9a-f]{2})*$/.test(s) ? encoding.fromHex(s) : s);

  // A probe's value, or the refusal's class in its place.
  async function refusal(f) {
    try {
      return await f();
    } catch (e) {
      if (e instanceof errors.MalformedError) return "malformed";
      throw e;
    }
  }

  function normal(value) {
    if (value === undefined) return null;
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
    roster: (c) => roster.rosterRoot(c.ids, c.hint),
    membership: (c) => roster.verifyRosterMembership(c.member, c.index, c.size, c.proof.map(hex), hex(c.root)),
    paid: (c) => roster.paidClaimsRoot(c.paid),
    async figures(c) {
      const r = await rules.rulesFromJson(c.rules);
      const args = [c.period, c.paid, c.refunds, c.surplus_in, hex(c.roster_root), c.roster_size, r];
      return periods.periodFigures(...args);
    },
    ledger(c) {
      let ledger = new periods.Ledger();
      for (const body of c.closed) ledger = ledger.add(body);
      periods.checkConservation(ledger);
      return [ledger.collected, ledger.aid, ledger.fees, ledger.refunds, ledger.surplus];
    },
    draw: (c) => sortition.drawPanel(hex(c.seed), c.claim, c.round, c.appeal, c.pool, c.size, c.excluded),
    async candidates(c) {
      const out = [];
      for await (const index of sortition.candidateIndices(hex(c.seed), c.claim, c.round, c.appeal, c.pool_size)) {
        if (out.length === c.take) break;
        out.push(index);
      }
      return out;
    },
    async value(c) {
      const out = [];
      for (const n of c.counters) {
        out.push(await refusal(() => sortition.drawValue(hex(c.seed), c.claim, c.round, c.appeal, BigInt(n))));
      }
      return out;
    },
    async accept(c) {
      const out = [];
      for (const s of c.sizes) {
        const row = [];
        for (const v of c.values) row.push(await refusal(() => sortition.acceptIndex(BigInt(v), BigInt(s))));
        out.push(row);
      }
      return out;
    },
    seed(c) {
      const cosignatures = c.cosignatures.map((x) => ({
        key_id: x.key_id,
        timestamp: BigInt(x.timestamp),
        signature: hex(x.signature),
      }));
      return sortition.witnessedSeed(hex(c.root), cosignatures);
    },
    jury: (c) => sortition.jurorPoolRoot(c.ids),
    async reveal(c) {
      const sealed = Object.freeze({ ...c.sealed, commitment: hex(c.sealed.commitment) });
      const revealed = Object.freeze({ ...c.revealed, salt: hex(c.revealed.salt) });
      await votes.checkReveal(sealed, revealed, { seq: 7 });
      const r = revealed;
      return votes.voteCommitment(r.claim, r.round, r.juror, r.choice, r.reason, r.salt);
    },
    async witnessed(c) {
      const r = await rules.rulesFromJson(c.rules);
      let w = null;
      if (c.witnessed !== null) {
        const cp = c.witnessed.checkpoint;
        w = Object.freeze({
          checkpoint: Object.freeze({ origin: cp.origin, size: BigInt(cp.size), root_hash: hex(cp.root_hash), extensions: [] }),
          cosignatures: c.witnessed.cosignatures.map((x) =>
            Object.freeze({ name: x.name, key_id: x.key_id, timestamp: BigInt(x.timestamp), signature: hex(x.signature) }),
          ),
          proof: c.witnessed.proof.map(hex),
          text: c.witnessed.text,
        });
      }
      const rootAt = c.root === null ? null : async () => hex(c.root);
      return witnessed.checkWitnessed(c.seq, w, c.seed_size, r, rootAt);
    },
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
