"""The English wording of what the checks report, as templates for translating it.

A check's ``detail`` is written in English where the check runs, mostly in
``verifiable/``, which knows no language, and it goes into ``--json`` as it
is: the stable interface of docs/client.md.  The human output translates it
(:func:`client.i18n.detail`): the template here that the whole text
matches, the most specific first, gives the translation, and each of its
``{values}`` is translated in turn (a stage, a nested error).

A detail no template matches is printed in English rather than lost: a new
wording in ``verifiable/`` then shows up in the Chinese output, where
tests/client/test_i18n.py catches it for the runs it makes, and gets its
template here.  Failures whose detail is a lower error's message (a bad
signature, a proof that does not verify) are translated as far as the
templates go; the rest of such a message stays as the error wrote it.

``CHECK_LABELS`` marks every check id for a label in the human output; the
id itself never changes (docs/client.md, "Stable output").
"""

from __future__ import annotations

from client.i18n import N_

__all__ = ["CHECK_LABELS", "TEMPLATES"]


def NP_(context: str, message: str) -> str:  # noqa: N802 - gettext's naming of markers
    """Mark ``message``, in ``context``, for extraction; translated where shown."""
    return message


CHECK_LABELS = (
    # sync, witness cosign
    NP_("check", "signature"),
    NP_("check", "witnesses"),
    NP_("check", "consistency"),
    # audit
    NP_("check", "checkpoint"),
    NP_("check", "consistent with last sync"),
    NP_("check", "resume point"),
    NP_("check", "tiles and entries"),
    NP_("check", "snapshot layout"),
    NP_("check", "rules"),
    NP_("check", "verifier page"),
    # verify-receipt
    NP_("check", "sealed entry"),
    NP_("check", "inclusion"),
    NP_("check", "commitment"),
    NP_("check", "log checkpoint"),
    NP_("check", "log entries"),
    NP_("check", "reveal"),
    NP_("check", "tally"),
    # verify-deduction, verify-claim
    NP_("check", "synced"),
    NP_("check", "period entry"),
    NP_("check", "roster"),
    NP_("check", "paid claims"),
    NP_("check", "surplus"),
    NP_("check", "share"),
    NP_("check", "sample"),
    NP_("check", "sample payout"),
    NP_("check", "claim filed"),
    NP_("check", "notice"),
    NP_("check", "objections"),
    NP_("check", "panel"),
    NP_("check", "seed"),
    NP_("check", "sortition"),
    NP_("check", "votes"),
    NP_("check", "decision"),
    NP_("check", "payout"),
    NP_("check", "stage"),
)

TEMPLATES: tuple[str, ...] = (
    # --- words the details are made of: stages, outcomes, choices ---
    N_("filed"),
    N_("noticed"),
    N_("voting"),
    N_("redraw"),
    N_("rejected"),
    N_("appealed"),
    N_("approved"),
    N_("paid"),
    N_("closed"),
    N_("no_quorum"),
    N_("approve"),
    N_("reject"),
    N_("ineligible"),
    N_("none"),
    N_("missing"),
    N_("two"),
    N_("one"),
    N_("one payout"),
    N_("one notice"),
    N_("one vote"),
    N_("refused"),
    N_("no proof"),
    N_("another root"),
    N_("another opening"),
    N_("another member"),
    N_("a reason"),
    N_("a drawn juror"),
    N_("not on it"),
    N_("awaiting"),
    N_("a later filing"),
    N_("none or several"),
    N_("no deduction"),
    N_("the log's root"),
    N_("a listed claim"),
    N_("a valid rule change"),
    N_("a list of distinct claims"),
    N_("a list of distinct paid claims"),
    N_("one period.closed entry"),
    N_("exactly one claim.filed"),
    N_("the claimant's member.joined"),
    N_("the previous period's period.closed"),
    N_("a pool.rules entry at index 0"),
    N_("a canonical entry included at its index"),
    N_("an unanswered objection's seq"),
    N_("a filed claim diagnosed in the waiting period"),
    N_("a leaf missing or not proven"),
    # --- where a failure is ---
    N_("size {old} -> {new}"),
    N_("size {size}"),
    N_("entry {entry}"),
    N_("after entry {entry}"),
    N_("entries {first} and {second}"),
    N_("claim {claim}, entry {entry}"),
    N_("claim {claim}, round {round}, entry {entry}"),
    N_("period {period}, entry {entry}, {field}"),
    N_("period {period}, entry {entry}"),
    N_("member {member}, period {period}"),
    N_("{amount} fen in {period}"),
    N_("at or before {time}"),
    N_("jury.pool of {period}"),
    N_("a checkpoint signed by the key of {origin}"),
    # --- sync, witness cosign, audit ---
    N_("signed by the pinned key, size {size}, origin {origin}"),
    N_("signed by the pinned key, size {size}"),
    N_("the first checkpoint of this log: nothing earlier to prove"),
    N_("the first checkpoint this witness cosigns for this log"),
    N_("{where}: proven with {count} hashes from the log's tiles"),
    N_("{where}: the same tree (root {root})"),
    N_("{where}: every tree extends the empty one"),
    N_("the log shrank: size {new} after size {old} (old root {old_root}, new root {new_root})"),
    N_("the log forked: {error}"),
    N_("consistency proof {where}: the log's tiles do not match its checkpoint: {error}"),
    N_("{found} of {total} trusted witnesses cosigned ({names}); {required} required"),
    N_("{found} of {total} trusted witnesses cosigned; {required} required"),
    N_(
        "cosignature by {key}: timestamp {timestamp} is {ahead} s in the future "
        "(now {now}, {skew} s of clock skew allowed)"
    ),
    N_("signed by {origin}, size {size}"),
    N_(
        "{count} entries: every tile hashes to the root, every entry is canonical and chained"
        " (entries 0..{last} in an earlier, interrupted run)"
    ),
    N_("{count} entries: every tile hashes to the root, every entry is canonical and chained"),
    N_("exactly the log's checkpoint, tiles and bundles"),
    N_("{count} file(s) not part of the log, first {name}"),
    N_(
        "{entries} entries replayed under the logged rules: {members} members, {claims} claims, "
        "{periods} periods closed, money conserved to the fen"
    ),
    N_(
        "the log does not begin with a pool.rules entry: format-level content only, "
        "no rules to replay"
    ),
    N_("the last checkpoint sync stored (size {size}) is newer than this one: not compared"),
    N_("resume point not saved: {error}"),
    N_("saved audit state not usable ({error}); started afresh"),
    N_("the pool's state kept in memory, not saved: {error}"),
    N_(
        "entries 0..{last} proven and their rules replayed by an interrupted audit "
        "(checkpoint of size {size}), the pool's state as it saved it; {detail}"
    ),
    N_("entry 0 is the pool's rulebook: the pin now records a pool's log"),
    # --- audit: the verifier page ---
    N_("the log has no rulebook: it publishes no verifier page"),
    N_("the rules replay did not finish: no hash in force to compare a page with"),
    N_(
        "a snapshot or folder holds no page: audit the pool server's URL, or give a "
        "saved copy with --page FILE"
    ),
    N_(
        "the log publishes no hash of a verifier page (no verifier.published entry): "
        "the page is not checked"
    ),
    N_(
        "the log publishes the page's hash {published} in entry {entry}, but there is no "
        "page at {where}"
    ),
    N_(
        "the page at {where} hashes to {digest} ({size} bytes), not to the page's hash "
        "published in entry {entry}: {published} ({published_size} bytes), built by {build}"
    ),
    N_(
        "the page at {where} hashes to {digest} ({size} bytes), the page's hash published "
        "in entry {entry}, built by {build}"
    ),
    N_("the pin not updated: {error}"),
    # --- verify-receipt ---
    N_("signed by {origin}: size {size}, root {root}"),
    N_("signed by {origin}, but of size {size} while the receipt's tree_size is {tree_size}"),
    N_("the receipt's checkpoint does not verify: {error}"),
    N_("entry {entry} is a canonical vote.sealed of juror {juror} on claim {claim} round {round}"),
    N_("leaf {leaf} is in the checkpoint's tree of size {size}"),
    N_("the inclusion proof does not verify: {error}"),
    N_("no verified checkpoint to prove the entry against"),
    N_("no sealed entry to compare the opening with"),
    N_("the opening ({choice}) gives the sealed commitment {commitment}"),
    N_("the receipt's opening is not a valid vote: {error}"),
    N_("{source}: signed by {origin}, size {size}"),
    N_("{source}: the checkpoint does not verify: {error}"),
    N_("{count} entries: every tile, leaf and chain link proven"),
    N_(
        "the receipt's checkpoint (size {size}) is a prefix of the log (size {log_size}); "
        "entry {entry} is byte-identical to the receipt's"
    ),
    N_("entry {entry} is byte-identical to the receipt's"),
    N_(
        "the log read has {size} entries, fewer than the receipt's checkpoint ({tree_size}): "
        "read a newer copy of the log"
    ),
    N_("the log has no entry {entry}"),
    N_("entry {entry} in the log differs from the receipt's entry"),
    N_("entry {entry} reveals {choice}, opening the sealed commitment as the receipt does"),
    N_(
        "no vote.revealed of juror {juror} on claim {claim} round {round} in the log's {size} "
        "entries yet (the round's voting is not closed)"
    ),
    N_(
        "claim {claim} round {round} was decided at entry {entry} without a vote.revealed of "
        "juror {juror}: the sealed vote was dropped"
    ),
    N_("no valid sealed entry to match a reveal against"),
    N_("no valid sealed entry"),
    N_("no claim.decided for claim {claim} round {round} in the log yet"),
    N_("the juror's reveal did not check: nothing to count"),
    # verify-receipt --bundle
    N_("the bundle is for claims {claims}, not the receipt's claim {claim}"),
    N_("{count} entries of the claim, each proven"),
    N_(
        "the bundle's checkpoint has size {size}, less than the receipt's ({tree_size}): "
        "fetch a newer bundle"
    ),
    N_("entry {entry} in the bundle differs from the receipt's entry: the log forked"),
    N_("the bundle has no entry {entry}"),
    N_(
        "the bundle holds no consistency proof from the receipt's size {size}: fetch the "
        "claim's bundle with since={since}"
    ),
    N_(
        "the receipt's checkpoint (size {size}) is not a prefix of the bundle's (size "
        "{bundle_size}): {error}: the log forked"
    ),
    N_(
        "the receipt's checkpoint (size {size}) is a prefix of the log (size {log_size}), by "
        "the {how}; entry {entry} is the receipt's"
    ),
    N_(
        "entry {entry} ({outcome}) counts {approvals} approve, {rejections} reject: the round's "
        "{reveals} reveals, this juror's {choice} among them"
    ),
    N_(
        "entry {entry} decides with {approvals} approve, {rejections} reject; the round's "
        "{reveals} reveals give {counted_approvals} approve, {counted_rejections} reject"
    ),
    # --- verify-deduction, verify-claim: passing ---
    N_("signed by the log key, size {size}, root {root}"),
    N_("the checkpoint sync stored (size {size})"),
    N_("{count} entries included under the checkpoint's root"),
    N_("{count} pool.rules entries, genesis at entry 0"),
    N_("period.closed at entry {entry}, share {share} fen"),
    N_("member {member} is leaf {leaf} of {size}"),
    N_("{count} claims, {total} fen, root {root}"),
    N_("the pool's first period ({period}) carries in 0"),
    N_("previous period {period} carried out {fen} fen"),
    N_(
        "{share} fen = ceil(({total} + fee {fee} + refunds {refunds} - surplus {surplus}) "
        "/ {members})"
    ),
    N_("claim {claim} filed at entry {entry} by a member"),
    N_("aid {amount} fen proposed within the cap {cap}"),
    N_("{count} objections"),
    N_("{answered} of {count} answered"),
    N_("seed = the log's root at size {size} ({how})"),
    N_("seed derived from the checkpoint at size {size}, cosigned by {names} ({how})"),
    N_("consistency proof {size} -> {checkpoint_size}"),
    N_("the checkpoint's own root at size {size}"),
    N_("{count} jurors drawn from a pool of {size}"),
    N_("{count} jurors, round {round}"),
    N_("{count} votes sealed in round {round}"),
    N_("{count} reveals open their sealed votes"),
    N_("ineligible: diagnosed inside the waiting period"),
    N_("{outcome} by {approvals} to {rejections} in round {round}"),
    N_("paid {amount} fen once, in period {period}"),
    N_("each sampled claim paid once, in {period}"),
    N_("{count} of {paid} claims checked in full"),
    N_("no claims sampled"),
    N_("no claims sampled (none paid)"),
    N_("claim {claim} is {stage}"),
    # --- verify-deduction, verify-claim: failing ---
    N_("the bundle's checkpoint and the synced one have the same size and different roots"),
    N_("entry {entry} is not proven in the tree of size {size}: {error}"),
    N_("the bundle is not for this member and period"),
    N_("no single period.closed for {period} in the bundle"),
    N_("the bundle has no period.closed of the period before this one"),
    N_("surplus_in is not the previous surplus_out"),
    N_("the rules' formula cannot be applied to the paid list: {error}"),
    N_("{field} is not the rules' formula of the figures"),
    N_("the paid list does not match {field}"),
    N_("a sampled claim is not in the period's paid list"),
    N_("a sampled claim is paid once"),
    N_("the payout is not the one the period lists"),
    N_("paid after the period's moment"),
    N_("claim {claim}: {count} claim.filed entries in the bundle"),
    N_("filed before the genesis rulebook"),
    N_("the claimant {member} has no member.joined before the filing in the bundle"),
    N_("an entry about the claim comes before its filing"),
    N_("a second notice"),
    N_("not the claimant's age band"),
    N_("not the claim's category"),
    N_("the proposed aid is outside the request and the cap"),
    N_("the objection window is not the rules'"),
    N_("a claim inside the waiting period gets no notice"),
    N_("an objection outside the notice"),
    N_("an objection after the window"),
    N_("the claimant objected"),
    N_("an answer to no open objection of this claim"),
    N_("an appeal of a claim not rejected"),
    N_("an appeal after its window"),
    N_("the bundle lacks the entries around the seed size"),
    N_("the seed size is not the first entry at or after the objection window's end"),
    N_("the seed size is the entry after the appeal"),
    N_("the seed size is the entry after the missed quorum"),
    N_("the seed size is the first entry after the objection window"),
    N_("the seed is not proven to be the log's root at size {size}: {error}"),
    N_("the seed is not the one the witnessed checkpoint gives"),
    N_("the witnessed checkpoint is another log's"),
    N_("the witnessed checkpoint is not proven to be the log's at size {size}: {error}"),
    N_("the bundle has no jury.pool of the panel's pool period before it"),
    N_("a panel for a claim not awaiting one"),
    N_("objections unanswered at the draw"),
    N_("the appeal flag is not the rules'"),
    N_("the panel size is not the rules'"),
    N_("the voting window is not the rules'"),
    N_("the claimant is on the panel"),
    N_("juror {index} is not the draw (pool index {pool_index})"),
    N_("the draw cannot be followed: {error}"),
    N_("the pool ran out before the panel was full"),
    N_("a vote with no panel voting in its round"),
    N_("a vote by a juror not on the panel"),
    N_("a second vote by one juror"),
    N_("a vote after the window"),
    N_("a reveal inside the voting window"),
    N_("a reveal of no sealed vote, or twice"),
    N_("the rules ask for a reason"),
    N_("a decision without a panel for a claim not in the waiting period"),
    N_("a decision with no panel voting"),
    N_("a decision inside the voting window"),
    N_("the tally is not the count of the revealed votes"),
    N_("the outcome is not what the votes give"),
    N_("the amount is not the notice's"),
    N_("a second payout"),
    N_("a payout of a claim not approved"),
    N_("the payout is not the amount decided"),
    # --- a checkpoint that does not open: the pinned key, the origin, the note ---
    N_("note: no signature by a known key (signed by {found}; known keys: {known})"),
    N_("note: signature by known key {key} is invalid: {error}"),
    N_("Ed25519 signature does not verify"),
    N_("checkpoint: no signature by the log key {key} (verified signatures only by {signers})"),
    N_("checkpoint: origin {origin}, expected {expected}"),
    N_("checkpoint: log key name {name} differs from the origin {origin}"),
    N_("{tile}: missing, but a tree of size {size} has it"),
    # --- cannot verify: errors from the state folder, the network, a bundle ---
    N_("{path}: cannot be read: {error}"),
    N_("{path}: not a verification bundle: {error}"),
    N_("{path}: corrupt state file: {error}"),
    N_("the log {origin} is not pinned: run `mutualog trust ORIGIN VERIFIER_KEY` first"),
    N_("no checkpoint of {origin} synced yet: run `mutualog sync URL` first"),
    N_(
        "{path} was fetched at size {size}, the last synced checkpoint has size {synced}: "
        "fetch the bundle again"
    ),
    N_("GET {url}: 404, the log has no such bundle"),
    N_("GET {url}: 404, the log serves no checkpoint"),
    N_("GET {url}: no answer within {seconds} s"),
    N_("GET {url}: {reason}"),
    N_("[Errno 111] Connection refused"),
    N_("{url}: not an http:// or https:// URL with a host"),
    N_("{url}: a log's URL has no query or fragment"),
    N_("{path}: no such file or folder"),
    N_("{path}: not a readable snapshot tar: {error}"),
)
