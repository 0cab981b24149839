"""Budgets: money a service (and each pilot) may spend, reserved before anything is submitted.

    pcs.initialize_dreamer({"budget": {"USD": 50}})                 # service-wide
    pcs.create_pilot({..., "budget": {"USD": 10}})                  # this pilot's resources only
    pcs.initialize_dreamer({"budget": {"USD": 50, "rates": {"EUR": 1.08}}})   # EUR prices count too

Every placement reserves its expected price in each budget that covers its resource, under one
lock, so concurrent submitters can never overspend together: what is left is always
`limit - spent - reserved`. When the task ends its hold is settled: the actual cost (a provider's
billed cost in `Result.metadata["billed_cost"]` where the plugin reports one, else the quoted
price) moves to `spent`; a task that failed everywhere releases its hold (nothing was billed that
QTAU knows of). Prices in another currency than the budget's are converted only through a
configured rate, else refused (`qtau.money`).

State (limits, spent, open holds) goes in and out through `state()` / `restore()`, and is saved
after each settlement to an optional store (`load_budget_state()` / `save_budget_state(state)`),
which is how the service journal keeps spend across restarts.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import attrs

from qtau.errors import BudgetExceededError, CurrencyError
from qtau.money import check_amount, check_currency, convert, parse_rates

SERVICE = "service"
#: Marks the state key of a second (third, ...) open hold of one task id: `<task id>#dup<n>`.
DUPLICATE = "#dup"


@attrs.frozen
class BudgetSpec:
    """A parsed budget: one currency, its limit, and rates for prices in other currencies."""

    currency: str
    limit: float
    rates: dict[str, float] = attrs.field(factory=dict)


def parse_budget(raw: Any, field: str = "budget") -> BudgetSpec | None:
    """`{"USD": 50}` or `{"USD": 50, "rates": {"EUR": 1.08}}` as a BudgetSpec (None: no budget)."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise CurrencyError(
            "a budget maps one currency to an amount", field=field, value=raw, fix="use e.g. {'USD': 50}",
        )
    amounts = {k: v for k, v in raw.items() if k != "rates"}
    if len(amounts) != 1:
        raise CurrencyError(
            "a budget has exactly one currency", field=field, value=dict(raw),
            fix="use e.g. {'USD': 50}; prices in other currencies count through 'rates': {'EUR': 1.08}",
        )
    [(code, amount)] = amounts.items()
    currency = check_currency(code, f"{field}.{code}")
    limit = check_amount(amount, f"{field}.{code}", positive=True)
    return BudgetSpec(currency, limit, parse_rates(raw.get("rates"), currency, f"{field}.rates"))


class BudgetStore(Protocol):
    """Where budget state survives a restart (the service journal implements this)."""

    def load_budget_state(self) -> Mapping[str, Any] | None: ...

    def save_budget_state(self, state: Mapping[str, Any]) -> None: ...


@attrs.define
class Ledger:
    """One budget's books, in its own currency."""

    name: str
    spec: BudgetSpec
    spent: float = 0.0
    reserved: float = 0.0

    @property
    def left(self) -> float:
        return self.spec.limit - self.spent - self.reserved

    def amount(self, price: float, currency: str, where: str) -> float:
        return convert(price, currency, self.spec.currency, self.spec.rates, where)

    def exceeded(self, price: float, message: str) -> BudgetExceededError:
        whole = price > self.spec.limit
        return BudgetExceededError(
            message, budget=self.name, limit=self.spec.limit, spent=self.spent, reserved=self.reserved,
            price=price, currency=self.spec.currency, field="budget", value=self.spec.limit,
            fix=("the budget is smaller than this one task: raise it, or lower the task's shots" if whole else
                 "wait for running tasks to settle, raise the budget, or allow cheaper resources"),
        )


@attrs.frozen
class Hold:
    """Money reserved for one task: per resource (a split task has several), per ledger."""

    key: str
    #: (resource id, price, currency, ((ledger name, amount in its currency), ...))
    entries: tuple[tuple[str, float, str, tuple[tuple[str, float], ...]], ...]


class Budgets:
    """The service's budget and the pilots' budgets, with every open hold, under one lock."""

    def __init__(self, store: BudgetStore | None = None) -> None:
        self._history: list[tuple[str, float, str]] = []
        self._lock = threading.Lock()
        self._ledgers: dict[str, Ledger] = {}
        self._pilot_of: dict[str, str] = {}
        #: every open hold, by identity: the same task submitted twice holds (and settles) twice
        self._holds: dict[int, Hold] = {}
        #: task id -> (resource id, price, currency, {ledger name: amount reserved}): money an
        #: earlier service reserved for provider jobs that may still bill (read from the journal).
        self._carried: dict[str, tuple[str, float, str, dict[str, float]]] = {}
        self.store = store
        if store is not None:
            saved = store.load_budget_state()
            if saved:
                self.restore(saved)

    # -- configuration ---------------------------------------------------------------------------

    @property
    def active(self) -> bool:
        return bool(self._ledgers)

    def set_service(self, spec: BudgetSpec | None) -> None:
        """Set (or drop) the service-wide budget; money already spent in its currency stays spent."""
        self._set(SERVICE, spec)

    def add_pilot(self, pilot: str, spec: BudgetSpec | None, resource_ids: Iterable[str]) -> None:
        name = f"pilot {pilot}"
        with self._lock:
            for rid in resource_ids:
                if spec is None:
                    if self._pilot_of.get(rid) == name:
                        del self._pilot_of[rid]
                else:
                    self._pilot_of[rid] = name
        self._set(name, spec)

    def _set(self, name: str, spec: BudgetSpec | None) -> None:
        with self._lock:
            old = self._ledgers.get(name)
            if spec is None:
                if old is not None and not old.reserved:
                    del self._ledgers[name]
                return
            if old is not None and old.spec.currency == spec.currency:
                old.spec = spec
            elif old is not None and (old.spent or old.reserved):
                raise CurrencyError(
                    f"the {name} budget already holds {old.spec.currency} spend; it cannot change currency",
                    field="budget", value=spec.currency, fix=f"keep the budget in {old.spec.currency}",
                )
            else:
                ledger = self._ledgers[name] = Ledger(name, spec)
                self._replay_into(ledger)
                self._carry_into(ledger)

    # -- reservations ----------------------------------------------------------------------------

    def _covering(self, resource_id: str) -> list[Ledger]:
        found = []
        service = self._ledgers.get(SERVICE)
        if service is not None:
            found.append(service)
        pilot = self._pilot_of.get(resource_id)
        if pilot is not None and pilot in self._ledgers:
            found.append(self._ledgers[pilot])
        return found

    def scope(self, resource_id: str) -> str | None:
        """The pilot budget covering a resource (None: only the service budget, if any)."""
        return self._pilot_of.get(resource_id)

    def shortfall(self, resource_id: str, price: float, currency: str) -> BudgetExceededError | None:
        """Why `price` does not fit now (None when it does). Reads without reserving."""
        if not price or not self._ledgers:
            return None
        for ledger in self._covering(resource_id):
            amount = ledger.amount(price, currency, resource_id)
            if amount > ledger.left + 1e-12:
                return ledger.exceeded(amount, f"{resource_id} costs {amount:.6g} {ledger.spec.currency}, "
                                               f"more than the {ledger.name} budget has left")
        return None

    def reserve(self, key: str, parts: Sequence[tuple[str, float, str]]) -> Hold | None:
        """Reserve every (resource id, price, currency) of a task at once, or raise and reserve nothing.

        Returns None when no budget applies (nothing to settle later).
        """
        if not self._ledgers:
            return None
        with self._lock:
            entries = []
            need: dict[str, float] = {}
            for rid, price, currency in parts:
                split = []
                for ledger in self._covering(rid) if price else ():
                    amount = ledger.amount(price, currency, rid)
                    need[ledger.name] = need.get(ledger.name, 0.0) + amount
                    split.append((ledger.name, amount))
                entries.append((rid, price, currency, tuple(split)))
            for name, amount in need.items():
                ledger = self._ledgers[name]
                if amount > ledger.left + 1e-12:
                    what = parts[0][0] if len(parts) == 1 else f"{len(parts)} parts"
                    raise ledger.exceeded(amount, f"task {key} on {what} would exceed the {name} budget")
            for name, amount in need.items():
                self._ledgers[name].reserved += amount
            hold = Hold(key, tuple(entries))
            self._holds[id(hold)] = hold
            return hold

    def settle(self, hold: Hold | None, actual: Mapping[str, tuple[float, str]] | None) -> None:
        """End a hold: `actual` maps each resource that ran to (cost, currency); None releases it."""
        if hold is None:
            return
        with self._lock:
            if self._holds.pop(id(hold), None) is None:
                return
            for _, _, _, split in hold.entries:
                for name, amount in split:
                    ledger = self._ledgers.get(name)
                    if ledger is not None:
                        ledger.reserved = max(ledger.reserved - amount, 0.0)
            for rid, (cost, currency) in (actual or {}).items():
                quoted = {n: a for r, _, _, s in hold.entries if r == rid for n, a in s}
                self._charge(rid, cost, currency, quoted)
            state = self._state() if self.store is not None else None
        if state is not None:
            self.store.save_budget_state(state)

    def _charge(self, resource_id: str, cost: float, currency: str, fallback: Mapping[str, float]) -> None:
        if not cost:
            return
        for ledger in self._covering(resource_id):
            try:
                ledger.spent += ledger.amount(cost, currency, resource_id)
            except CurrencyError:
                # A bill in a currency with no rate: count what was reserved for it instead.
                ledger.spent += fallback.get(ledger.name, 0.0)

    def replay(self, history: Iterable[tuple[str, float, str]]) -> None:
        """Spend of earlier services (resource id, cost, currency), read from the journal: counted
        in every budget that covers it, now and in budgets set later, so spend survives a restart.
        A cost in a currency a budget has no rate for raises CurrencyError."""
        with self._lock:
            self._history = [entry for entry in history if entry[1]]
            for ledger in self._ledgers.values():
                self._replay_into(ledger)

    def _replay_into(self, ledger: Ledger) -> None:
        for rid, cost, currency in self._history:
            if ledger.name == SERVICE or self._pilot_of.get(rid) == ledger.name:
                ledger.spent += ledger.amount(cost, currency, rid)

    def carry(self, entries: Iterable[tuple[str, str, float, str]]) -> None:
        """Reserve money for provider jobs an earlier service started and nobody saw end
        (task id, resource id, quoted price, currency), read from the journal: counted as reserved
        in every budget that covers the resource, now and in budgets set later, until
        `take_carried` turns it into the hold of the re-attached job. A job that outlived its
        service can still bill, so a crash never frees its money. A price in a currency a budget
        has no rate for raises CurrencyError."""
        with self._lock:
            for key, rid, price, currency in entries:
                if price:
                    self._carried[key] = (rid, float(price), currency, {})
            for ledger in self._ledgers.values():
                self._carry_into(ledger)

    def _carry_into(self, ledger: Ledger) -> None:
        for rid, price, currency, split in self._carried.values():
            if ledger.name in split or not (ledger.name == SERVICE or self._pilot_of.get(rid) == ledger.name):
                continue
            amount = ledger.amount(price, currency, rid)
            ledger.reserved += amount
            split[ledger.name] = amount

    def take_carried(self, key: str) -> Hold | None:
        """The carried reservation of task `key` as an open hold, settled like any other when the
        re-attached job ends (None when nothing was carried for it)."""
        with self._lock:
            carried = self._carried.pop(key, None)
            if carried is None:
                return None
            rid, price, currency, split = carried
            hold = Hold(key, ((rid, price, currency, tuple(split.items())),))
            self._holds[id(hold)] = hold
            return hold

    def charge(self, resource_id: str, cost: float, currency: str) -> None:
        """Count money spent outside a hold, e.g. replaying a journal's attempts after a restart.
        A cost in a currency a budget has no rate for raises CurrencyError."""
        with self._lock:
            for ledger in self._covering(resource_id):
                ledger.amount(cost, currency, resource_id)
            self._charge(resource_id, cost, currency, {})

    # -- reporting and persistence ---------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        """Every budget: currency, limit, spent, reserved, left, and how many tasks hold money."""
        with self._lock:
            out = {}
            for name, ledger in self._ledgers.items():
                out[name] = {
                    "currency": ledger.spec.currency, "limit": ledger.spec.limit, "spent": ledger.spent,
                    "reserved": ledger.reserved, "left": ledger.left,
                    "open_holds": sum(1 for h in self._holds.values() for _, _, _, s in h.entries
                                      if any(n == name for n, _ in s))
                    + sum(1 for *_, split in self._carried.values() if name in split),
                    "rates": dict(ledger.spec.rates),
                }
            return out

    def _state(self) -> dict[str, Any]:
        return {
            "ledgers": {name: {"currency": book.spec.currency, "limit": book.spec.limit,
                               "rates": dict(book.spec.rates), "spent": book.spent}
                        for name, book in self._ledgers.items()},
            "pilot_of": dict(self._pilot_of),
            # A hold open at a restart may still be billed: it is restored as reserved money.
            "holds": {f"{h.key}{DUPLICATE}{n}" if n else h.key: [list(e[:3]) + [[list(s) for s in e[3]]] for e in h.entries]
                      for h, n in _numbered(self._holds.values())},
        }

    def state(self) -> dict[str, Any]:
        """Plain values (JSON-ready) describing every budget and open hold."""
        with self._lock:
            return self._state()

    def restore(self, state: Mapping[str, Any]) -> None:
        """Load what `state()` produced, keeping limits configured since and adding saved spend."""
        with self._lock:
            for name, saved in (state.get("ledgers") or {}).items():
                ledger = self._ledgers.get(name)
                if ledger is None:
                    spec = BudgetSpec(saved["currency"], float(saved["limit"]), dict(saved.get("rates") or {}))
                    ledger = self._ledgers[name] = Ledger(name, spec)
                if ledger.spec.currency == saved["currency"]:
                    ledger.spent += float(saved.get("spent", 0.0))
            for rid, name in (state.get("pilot_of") or {}).items():
                self._pilot_of.setdefault(rid, name)
            for key, entries in (state.get("holds") or {}).items():
                hold = Hold(re.sub(f"{DUPLICATE}[0-9]+$", "", key), tuple((e[0], float(e[1]), e[2], tuple((n, float(a)) for n, a in e[3]))
                                       for e in entries))
                self._holds[id(hold)] = hold
                for _, _, _, split in hold.entries:
                    for name, amount in split:
                        if name in self._ledgers:
                            self._ledgers[name].reserved += amount


def _numbered(holds: Iterable[Hold]) -> Iterable[tuple[Hold, int]]:
    """Each hold with how many earlier ones share its key (a task submitted more than once)."""
    seen: dict[str, int] = {}
    for hold in holds:
        n = seen.get(hold.key, 0)
        seen[hold.key] = n + 1
        yield hold, n
