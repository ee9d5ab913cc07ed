"""What the pages show, built from the pool's domain objects.

Plain functions and frozen dataclasses: no Flask, no database, no clock
of their own.  A view gathers the objects (the claim's view and record
from the rulebook and the log's index, the entries' bodies, the time),
calls a presenter and renders what it returns; a presenter is tested
without a request.

- :mod:`server.presenters.claim`: a claim's timeline, its objections with
  their answers, and which forms a member may use on it;
- :mod:`server.presenters.commands`: the ``mutualog`` commands a page
  prints for copying, filled in for this server;
- :mod:`server.presenters.member`: a member's money — a period's statement
  with its share formula and one page of its paid claims, the chart's points
  of what the member paid, the next deduction and its estimate;
- :mod:`server.presenters.juror`: the time left to vote, the receipt's file
  name and the commands that check it;
- :mod:`server.presenters.operator`: what an operator's action did, as the
  page says it;
- :mod:`server.presenters.refusals`: a refusal of the pool, the private
  store or the rulebook, in the page's language.

Words a person reads go through Flask-Babel's ``gettext``, which without a
request returns the English source.
"""

__all__: list[str] = []
