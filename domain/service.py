"""The petition application service: its methods are the commands of the domain."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Recording

from domain import intake
from domain.case_numbers import case_id, format_case_number
from domain.deadlines import DeadlinePolicy
from domain.errors import CaseNotFound, Conflict, InvalidField
from domain.events import Declined, PetitionEvent
from domain.group_commit import GroupCommit
from domain.numbering import SerialAllocator
from domain.petition import Petition, new_petition
from domain.reading import HistoryEntry, history_entry
from domain.requests import AlreadyDone, KeyReused, RequestKey, check_request, save_with_request
from domain.rules import WarningRuleCommands
from domain.scheduled_commands import Outcome, ScheduledCommands
from domain.transcodings import DateAsISO, DeadlineAsDict

ACCESS_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud by phone
_MAX_NUMBER_ATTEMPTS = 100


@dataclass(frozen=True)
class Receipt(Outcome):
    """A registration's result, with the code printed on the petitioner's receipt."""

    access_code: str


def access_code_digest(case_number: str, code: str) -> str:
    """The stored digest of a receipt code (the code itself is never stored)."""
    return hashlib.sha256(f"{case_number}:{code.strip().upper()}".encode()).hexdigest()


class PetitionService(WarningRuleCommands, ScheduledCommands, Application[UUID]):
    """Registers petitions and carries out every action on them, as stored events."""

    name = "PetitionService"
    snapshotting_intervals = {Petition: 50}  # noqa: RUF012 - the library's class attribute

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        policy: DeadlinePolicy | None = None,
        clock: Callable[[], datetime] | None = None,
        case_number_prefix: str = "XF",
        receipt_key: bytes | None = None,
    ) -> None:
        super().__init__(env)
        if not self.env.get("PERSISTENCE_MODULE"):
            # The library would silently keep everything in memory; a server must never do that.
            raise RuntimeError("PERSISTENCE_MODULE is not set: refusing to run on in-memory storage")
        self.policy = policy or DeadlinePolicy()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.prefix = case_number_prefix
        # With a key, a receipt code is an HMAC of the case number, so a retried registration
        # can print the same code again; only its digest is stored either way.
        self.receipt_key = receipt_key
        self._serials = SerialAllocator(self._serial_taken)
        self._group = GroupCommit(self._put)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        """Add our dates and deadlines to the library's transcodings."""
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
        transcoder.register(DeadlineAsDict())

    # ---- registration --------------------------------------------------------------------

    def register(
        self,
        *,
        actor: str,
        channel: str,
        received_at: datetime,
        receiving_unit: str,
        location_unit: str,
        petitioners: Sequence[Mapping[str, Any]],
        headcount: int,
        category: str,
        summary: str,
        content: str,
        urgent: bool = False,
        key_person: bool = False,
        at: datetime | None = None,
        same_matter_as: UUID | str | None = None,
        request: RequestKey | None = None,
    ) -> Receipt:
        """Register a petition (登记); the registrar is responsible for routing it (首问负责).

        A keyed request is not looked up first: its record is saved with the petition, and a
        retry fails that save and answers as the first did (one round trip fewer per case)."""
        now = self.clock()
        at = intake.aware(at or now, "at")
        received_at = intake.aware(received_at, "received_at")
        if at > now:
            raise InvalidField("at", "is in the future; record what has already happened")
        if received_at > at:
            raise InvalidField("received_at", "is later than the registration time")
        fields: dict[str, Any] = {
            "channel": intake.channel(channel),
            "received_at": received_at,
            "receiving_unit": intake.text(receiving_unit, "receiving_unit", max_length=64),
            "location_unit": intake.text(location_unit, "location_unit", max_length=64),
            "petitioners": intake.petitioners(petitioners, headcount),
            "headcount": headcount,
            "category": intake.text(category, "category", max_length=64),
            "summary": intake.text(summary, "summary", max_length=200),
            "content": intake.text(content, "content", max_length=50000),
            "urgent": bool(urgent),
            "key_person": bool(key_person),
            "at": at,
            "actor": intake.text(actor, "actor", max_length=100),
            "triage": self.policy.start("triage", self.policy.office_date(received_at)),
            "timezone": str(self.policy.tz),
        }
        related = self.get(same_matter_as) if same_matter_as is not None else None
        fields["related_case_id"] = str(related.id) if related else None
        fields["related_case_number"] = related.case_number if related else None
        year = self.policy.office_date(received_at).year
        for _ in range(_MAX_NUMBER_ATTEMPTS):
            serial = self._serials.allocate(year)
            number = format_case_number(self.prefix, year, serial)
            code = self._receipt_code(number)
            petition = new_petition(
                id=case_id(number), case_number=number,
                access_code_digest=access_code_digest(number, code), **fields,
            )
            if related is not None and related.status == "final":
                # Art. 35: a matter settled finally is not taken up again on the same facts.
                petition.trigger_event(
                    Declined, at=at, actor=fields["actor"], note=None,
                    reason=f"the same matter was settled finally in {related.case_number} "
                    "(复核终结); it is not accepted again",
                )
            try:
                recordings = save_with_request(self, request, petition, self._save)
            except IntegrityError:
                self._serials.skip_taken(year, serial)
                continue
            except (AlreadyDone, KeyReused):
                self._serials.give_back(year, serial)  # a retry takes no number
                raise
            return Receipt(petition, recordings[-1].notification.id, code)
        raise Conflict("could not allocate a case number; please try again")

    def _receipt_code(self, number: str) -> str:
        # 32 symbols: five bits of a random or keyed byte each, so the code is unbiased.
        raw = (hmac.new(self.receipt_key, number.encode(), hashlib.sha256).digest()
               if self.receipt_key else secrets.token_bytes(8))
        return "".join(ACCESS_CODE_ALPHABET[b & 31] for b in raw[:8])

    def receipt_code(self, petition: Petition) -> str | None:
        """The code printed on the case's receipt, when it can be made again (keyed codes)."""
        if self.receipt_key is None:
            return None
        code = self._receipt_code(petition.case_number)
        return code if access_code_digest(petition.case_number, code) == petition.access_code_digest else None

    def _save(self, *aggregates: Any) -> list[Recording[Any]]:
        """Save through the group commit; take the snapshots the library takes only for aggregates."""
        recordings = self._group.save(*aggregates)
        interval = self.snapshotting_intervals[Petition]
        for recording in recordings:
            event = recording.domain_event
            if event.originator_version % interval == 0 and isinstance(event, PetitionEvent):
                self.take_snapshot(event.originator_id, version=event.originator_version)
        return recordings

    def _put(self, *events: Any) -> list[Recording[Any]]:
        """Store events already collected from their aggregates: what `save` does with events,
        without its per-object protocol checks (costly isinstance tests on each save)."""
        recordings = self.events.put(list(events))
        self._notify(recordings)
        return recordings

    def _serial_taken(self, year: int, serial: int) -> bool:
        number = format_case_number(self.prefix, year, serial)
        return bool(self.recorder.select_events(case_id(number), limit=1))

    # ---- reading -------------------------------------------------------------------------

    def get(self, petition_id: UUID | str, version: int | None = None) -> Petition:
        """The case now, or at a past version; a case number works as well as an id."""
        pid = self.resolve(petition_id)
        try:
            petition: object = self.repository.get(pid, version=version)
        except AggregateNotFoundError:
            raise CaseNotFound("no such case") from None
        if not isinstance(petition, Petition):
            raise CaseNotFound("no such case")
        return petition

    def resolve(self, petition_id: UUID | str) -> UUID:
        """The id of a case given its id or its case number."""
        if isinstance(petition_id, UUID):
            return petition_id
        text = str(petition_id).strip()
        try:
            return UUID(text)
        except ValueError:
            pass
        return case_id(text)

    def get_as_of(self, petition_id: UUID | str, recorded_by: datetime) -> Petition:
        """The case as the system had recorded it by `recorded_by` (record time, not business time)."""
        pid = self.resolve(petition_id)
        recorded_by = intake.aware(recorded_by, "as_of")
        version = None
        for stored in self.events.get(pid):
            if cast(datetime, stored.timestamp) > recorded_by:  # type: ignore[attr-defined]
                break
            version = stored.originator_version
        if version is None:
            raise CaseNotFound("no such case had been recorded at that moment")
        return self.get(pid, version=version)

    def history(self, petition_id: UUID | str) -> list[HistoryEntry]:
        """Every event of the case, oldest first, with actor, business time and record time."""
        pid = self.get(petition_id).id
        return [history_entry(e) for e in self.events.get(pid)]

    def check_access_code(self, case_number: str, code: str) -> Petition | None:
        """The case if `code` is the one printed on its receipt, else None."""
        try:
            petition = self.get(case_number)
        except CaseNotFound:
            return None
        expected = access_code_digest(petition.case_number, code)
        return petition if hmac.compare_digest(expected, petition.access_code_digest) else None

    # ---- commands on a registered case ---------------------------------------------------

    def _change(self, petition_id: UUID | str, action: str, expected_version: int | None,
                needs_policy: bool, request: RequestKey | None = None, **kwargs: Any) -> Outcome:
        check_request(self, request)
        petition = self.get(petition_id)
        if expected_version is not None and petition.version != expected_version:
            raise Conflict(
                f"this case has changed since you loaded it (now version {petition.version}); "
                "reload it and try again"
            )
        now = self.clock()
        kwargs["at"] = kwargs.get("at") or now
        if needs_policy:
            kwargs["policy"] = self.policy
        getattr(petition, action)(now=now, **kwargs)
        try:
            recordings = save_with_request(self, request, petition, self._save)
        except IntegrityError:
            raise Conflict(
                "this case was changed by someone else at the same moment; reload it and try again"
            ) from None
        return Outcome(petition, recordings[-1].notification.id if recordings else None)

    def assign(self, petition_id: UUID | str, *, expected_version: int | None = None,
               **kwargs: Any) -> Outcome:
        """Forward or assign the case to the competent unit (unit, person, mode, at, actor, note)."""
        return self._change(petition_id, "assign", expected_version, True, **kwargs)

    def redirect(self, petition_id: UUID | str, *, expected_version: int | None = None,
                 **kwargs: Any) -> Outcome:
        """Tell the petitioner where to go instead (to, reason); the case ends."""
        return self._change(petition_id, "redirect", expected_version, False, **kwargs)

    def decline(self, petition_id: UUID | str, *, expected_version: int | None = None,
                **kwargs: Any) -> Outcome:
        """Decline the case (reason); the case ends."""
        return self._change(petition_id, "decline", expected_version, False, **kwargs)

    def accept(self, petition_id: UUID | str, *, expected_version: int | None = None,
               **kwargs: Any) -> Outcome:
        """Accept the case for handling."""
        return self._change(petition_id, "accept", expected_version, True, **kwargs)

    def add_note(self, petition_id: UUID | str, *, expected_version: int | None = None,
                 **kwargs: Any) -> Outcome:
        """Add an investigation, mediation or other note (text, kind)."""
        return self._change(petition_id, "add_note", expected_version, False, **kwargs)

    def extend(self, petition_id: UUID | str, *, expected_version: int | None = None,
               **kwargs: Any) -> Outcome:
        """Extend the handling limit once (days, reason, approved_by)."""
        return self._change(petition_id, "extend", expected_version, True, **kwargs)

    def suspend_clock(self, petition_id: UUID | str, *, expected_version: int | None = None,
                      **kwargs: Any) -> Outcome:
        """Stop the running stage clock (reason, optional clock)."""
        return self._change(petition_id, "suspend_clock", expected_version, False, **kwargs)

    def resume_clock(self, petition_id: UUID | str, *, expected_version: int | None = None,
                     **kwargs: Any) -> Outcome:
        """Restart suspended clocks (reason)."""
        return self._change(petition_id, "resume_clock", expected_version, True, **kwargs)

    def reply(self, petition_id: UUID | str, *, expected_version: int | None = None,
              **kwargs: Any) -> Outcome:
        """Issue the handling opinion (opinion, text)."""
        return self._change(petition_id, "reply", expected_version, False, **kwargs)

    def serve(self, petition_id: UUID | str, *, expected_version: int | None = None,
              **kwargs: Any) -> Outcome:
        """Serve the opinion or review decision on the petitioner."""
        return self._change(petition_id, "serve", expected_version, True, **kwargs)

    def rate(self, petition_id: UUID | str, *, expected_version: int | None = None,
             **kwargs: Any) -> Outcome:
        """Record the petitioner's satisfaction (satisfaction)."""
        return self._change(petition_id, "rate", expected_version, False, **kwargs)

    def request_review(self, petition_id: UUID | str, *, expected_version: int | None = None,
                       **kwargs: Any) -> Outcome:
        """Record the petitioner's request for review (reason, optional unit)."""
        return self._change(petition_id, "request_review", expected_version, True, **kwargs)

    def decide_review(self, petition_id: UUID | str, *, expected_version: int | None = None,
                      **kwargs: Any) -> Outcome:
        """Record the review decision (opinion, text)."""
        return self._change(petition_id, "decide_review", expected_version, False, **kwargs)

    def request_rereview(self, petition_id: UUID | str, *, expected_version: int | None = None,
                         **kwargs: Any) -> Outcome:
        """Record the petitioner's request for re-review (reason, optional unit)."""
        return self._change(petition_id, "request_rereview", expected_version, True, **kwargs)

    def decide_rereview(self, petition_id: UUID | str, *, expected_version: int | None = None,
                        **kwargs: Any) -> Outcome:
        """Record the re-review decision (opinion, text); the case becomes final."""
        return self._change(petition_id, "decide_rereview", expected_version, True, **kwargs)

    def escalate(self, petition_id: UUID | str, *, expected_version: int | None = None,
                 **kwargs: Any) -> Outcome:
        """Report the matter upward (to_unit, reason)."""
        return self._change(petition_id, "escalate", expected_version, False, **kwargs)

    def supervise(self, petition_id: UUID | str, *, expected_version: int | None = None,
                  **kwargs: Any) -> Outcome:
        """Order supervision (level, reason, by_unit)."""
        return self._change(petition_id, "supervise", expected_version, True, **kwargs)

    def report_supervision(self, petition_id: UUID | str, *,
                           expected_version: int | None = None, **kwargs: Any) -> Outcome:
        """Report back on a supervision order (text)."""
        return self._change(petition_id, "report_supervision", expected_version, False, **kwargs)

    def package(self, petition_id: UUID | str, *, expected_version: int | None = None,
                **kwargs: Any) -> Outcome:
        """Name a package leader (leader)."""
        return self._change(petition_id, "package", expected_version, False, **kwargs)

    def close_case(self, petition_id: UUID | str, *, expected_version: int | None = None,
                   **kwargs: Any) -> Outcome:
        """Close a served case (reason)."""
        return self._change(petition_id, "close", expected_version, True, **kwargs)

    def revisit(self, petition_id: UUID | str, *, expected_version: int | None = None,
                **kwargs: Any) -> Outcome:
        """Record a revisit (outcome, text)."""
        return self._change(petition_id, "revisit", expected_version, False, **kwargs)
