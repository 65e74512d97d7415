"""The `token` events of one run's event stream: each streaming LLM call's text, in order,
once (db/live_token_listener.py says what arrived, possibly overlapping).

A call's tokens end with its reply: when the journal says the call finished, whatever of
the reply has not been sent yet goes first (the last batch may come after the journal's
word, or a quick call may never have been seen streaming), so a call's `token` texts
always join to its reply (its first ``LIVE_TEXT_LIMIT`` characters) and come before its
`llm_call`. When the rows show that a call
the stream follows stopped streaming, the stream asks the journal at once rather than at
its next look (``take_call_ended``), so the reply's end is not late.
"""

from __future__ import annotations

from api.schemas.calls import TokenEvent
from db.call_journal import JournalChange
from db.live_token_listener import LiveSubscription
from db.live_tokens import LIVE_TEXT_LIMIT, LiveCall

_Call = tuple[str, int, int, int]  # step, execution, attempt, call index
ASK_JOURNAL_TIMES = 3


class TokenFollower:
    def __init__(self, run_id: str, subscription: LiveSubscription) -> None:
        self._run_id, self._subscription = run_id, subscription
        self._sent: dict[_Call, int] = {}  # characters of each call's text sent
        self._ended: set[_Call] = set()
        self._call_ended = False
        # How often each call that stopped streaming had the journal asked: its row goes
        # just before its reply is journaled, so a few looks, then the usual second.
        self._asked: dict[_Call, int] = {}

    async def events(self) -> list[TokenEvent]:
        """What the run's calls said since the last time (or, first, so far)."""
        events = []
        pieces = await self._subscription.poll()
        if (rows := self._subscription.rows) is not None:
            streaming = {_key(row.call) for row in rows}
            for call in self._sent.keys() - streaming:
                if self._asked.get(call, 0) < ASK_JOURNAL_TIMES:
                    self._asked[call] = self._asked.get(call, 0) + 1
                    self._call_ended = True
        for piece in pieces:
            call = _key(piece.call)
            sent = self._sent.get(call, 0)
            if call in self._ended or piece.at + len(piece.text) <= sent:
                continue
            if piece.at > sent:  # a batch went by unseen: the rows have it all
                self._subscription.resync()
                continue
            events.append(self._event(call, piece.text[sent - piece.at :]))
            self._sent[call] = piece.at + len(piece.text)
        return events

    def take_call_ended(self) -> bool:
        """Whether a call the stream followed stopped streaming since the last time."""
        ended, self._call_ended = self._call_ended, False
        return ended

    def ended(self, change: JournalChange) -> list[TokenEvent]:
        """A finished LLM call's reply, where the stream has not sent it yet."""
        call = (change.step_id, change.execution, change.attempt, change.call_index)
        self._ended.add(call)
        sent = self._sent.pop(call, 0)
        reply = (change.record or {}).get("reply")
        if not isinstance(reply, str):
            return []
        shown = reply[:LIVE_TEXT_LIMIT]  # live text's bound; the step's output has the rest
        if len(shown) <= sent:
            return []
        return [self._event(call, shown[sent:])]

    def _event(self, call: _Call, text: str) -> TokenEvent:
        step_id, execution, attempt, call_index = call
        return TokenEvent(
            run_id=self._run_id,
            step_id=step_id,
            execution=execution,
            attempt=attempt,
            call_index=call_index,
            text=text,
        )


def _key(call: LiveCall) -> _Call:
    return (call.step_id, call.execution, call.attempt, call.call_index)
