"""One pager for every vendor: lazy pages, or every page at once with bounded concurrency.

A vendor says how to ask for the n-th page (:class:`PageNumbers` for FSI's ``pagenumber`` /
``pagecount``, :class:`Offsets` for ``offset`` / ``limit`` as FOLIO mod-users and Wise page)
and gives a function that fetches one :class:`Slice`. The pager does the rest, the same way for
all (cf. PyGithub's ``PaginatedList``):

* :meth:`Pager.pages` walks the pages lazily, one request at a time, nothing fetched ahead;
* :meth:`Pager.collect` fetches a window of ``workers`` pages ahead, hands them back in page
  order, and stops at the first empty page. A short page is not the end: a server may cap the
  page size silently. With page numbers the server numbers its own (capped) pages, so nothing
  is lost; with offsets the rest of a short page is asked for again until it is filled or comes
  back empty. No row is dropped or repeated;
* a 429 slows every worker down: the transport holds all of a client's threads back for the
  server's ``Retry-After``, and a page whose retries all met 429 is asked for again after the
  wait instead of failing the export.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import attrs
import pandas as pd

from ._display import Progress, check_progress, progress_bar
from ._frames import FrameSpec
from .errors import APIError, InputError, RateLimitError

__all__ = ["DEFAULT_WORKERS", "Offsets", "Page", "PageNumbers", "Pager", "Slice", "check_workers"]

#: Pages fetched at once by an export unless a call or a profile says otherwise.
DEFAULT_WORKERS = 8
#: How many times one page is asked for again after its retries all met a 429.
RATE_LIMIT_PATIENCE = 8
_RATE_LIMIT_FALLBACK_WAIT = 1.0

Record = dict[str, Any]


def check_workers(value: Any, name: str = "workers") -> int:
    """A number of concurrent requests: a whole number from 1 to 64."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 64:
        raise InputError(name, "must be a whole number from 1 to 64")
    return value


@attrs.frozen
class Slice:
    """What one request asks for: a page ``number`` (1-based), or ``offset`` and ``size`` rows."""

    number: int
    offset: int
    size: int


@attrs.frozen
class PageNumbers:
    """Numbered pages of ``size`` rows (FSI's ``pagenumber`` / ``pagecount``)."""

    size: int
    first: int = 1
    #: the request's page parameter, named when a server ignores it
    parameter: str = "pagenumber"

    def slice(self, index: int) -> Slice:
        return Slice(number=self.first + index, offset=(self.first - 1 + index) * self.size, size=self.size)

    def rest(self, asked: Slice, received: int) -> Slice | None:
        """Nothing: a server that caps the page size numbers its own shorter pages."""
        return None


@attrs.frozen
class Offsets:
    """``limit`` rows from an ``offset`` (FOLIO mod-users' ``offset`` / ``limit``, Wise lists)."""

    limit: int
    start: int = 0
    parameter: str = "offset"

    def slice(self, index: int) -> Slice:
        return Slice(number=index + 1, offset=self.start + index * self.limit, size=self.limit)

    def rest(self, asked: Slice, received: int) -> Slice | None:
        """The rows a short page left out, which a server capping ``limit`` never sent."""
        if 0 < received < asked.size:
            return Slice(number=asked.number, offset=asked.offset + received, size=asked.size - received)
        return None


Paging = PageNumbers | Offsets


@attrs.frozen
class Page:
    """One page of records, as the server sent them (a short page's rest included)."""

    number: int
    size: int
    records: list[Record] = attrs.field(repr=False)
    frame: FrameSpec | None = attrs.field(default=None, repr=False, eq=False)

    def to_frame(self) -> pd.DataFrame:
        if self.frame is None:
            return pd.DataFrame.from_records(self.records)
        return self.frame.build(self.records)

    def __len__(self) -> int:
        return len(self.records)


@attrs.frozen
class _Fetched:
    page: Page
    last: bool  # the rest of a short page came back empty: the data ends inside this page


class Pager:
    """Every page of one listing.

    Args:
        fetch: asks the server for one :class:`Slice` and returns its records (an empty list
            past the end).
        paging: :class:`PageNumbers` or :class:`Offsets`.
        frame: the declared frame of the records, for :meth:`Page.to_frame` and :meth:`frame`.
        workers: pages fetched at once by :meth:`collect`.
        progress: a progress bar while collecting: ``False``/``"off"``, ``True``/``"auto"``
            (a widget in Jupyter, text elsewhere) or ``"text"``.
        label: the action, as the progress bar and errors name it.
        vendor: whose server answers, as errors name it.
        max_pages: stop after this many pages.
    """

    def __init__(self, fetch: Callable[[Slice], list[Record]], paging: Paging, *, frame: FrameSpec | None = None,
                 workers: int = DEFAULT_WORKERS, progress: Progress = False, label: str = "pages",
                 max_pages: int | None = None, vendor: str = "") -> None:
        self._fetch = fetch
        self.paging = paging
        self.frame_spec = frame
        self.workers = check_workers(workers)
        self.progress = check_progress(progress)
        self.label = label
        self.max_pages = max_pages
        self.vendor = vendor

    def __repr__(self) -> str:
        return f"<Pager {self.label} {self.paging!r} workers={self.workers}>"

    def __iter__(self) -> Iterator[Record]:
        """Every record, lazily, one page request at a time."""
        for page in self.pages():
            yield from page.records

    def pages(self) -> Iterator[Page]:
        """The pages in order, fetched one at a time as they are asked for."""
        guard = _SamePageGuard(self)
        for index in self._indexes():
            fetched = self._page(index)
            if not fetched.page.records:
                return
            guard.check(fetched.page)
            yield fetched.page
            if fetched.last:
                return

    def collect(self, *, max_rows: int | None = None) -> list[Record]:
        """Every record, in page order, fetching ``workers`` pages at a time."""
        records: list[Record] = []
        with progress_bar(self.progress, desc=self.label) as bar:
            for page in self._ahead(max_rows):
                take = page.records if max_rows is None else page.records[: max_rows - len(records)]
                records.extend(take)
                bar.update(len(take))
                if max_rows is not None and len(records) >= max_rows:
                    break
        return records

    def frame(self, *, max_rows: int | None = None) -> pd.DataFrame:
        """Every record as one DataFrame of the declared frame."""
        records = self.collect(max_rows=max_rows)
        return self.frame_spec.build(records) if self.frame_spec else pd.DataFrame.from_records(records)

    # -- the work --------------------------------------------------------------------------------
    @property
    def _size(self) -> int:
        return self.paging.slice(0).size

    def _indexes(self) -> Iterator[int]:
        index = 0
        while self.max_pages is None or index < self.max_pages:
            yield index
            index += 1

    def _ahead(self, max_rows: int | None) -> Iterator[Page]:
        """Pages in order while up to ``workers`` later ones are already on their way.

        With ``max_rows``, no page is asked for that full pages before it would make needless.
        Pages are fetched one at a time until a full one comes back: the first logs in once for
        all workers (a refused login is sent once, not by every worker), and a listing that
        fits in a page or two costs no requests beyond its end.
        """
        if self.workers == 1:
            yield from self.pages()
            return
        guard = _SamePageGuard(self)
        indexes = self._indexes()
        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="patron-kit-pager")
        window: deque[Future[_Fetched]] = deque()
        remaining = max_rows
        width = 1  # the first page alone, then ``workers`` at a time

        def fill() -> None:
            while len(window) < width and (remaining is None or len(window) * self._size < remaining):
                index = next(indexes, None)
                if index is None:
                    return
                window.append(pool.submit(self._page, index))

        failed = False
        try:
            fill()
            while window:
                fetched = window.popleft().result()
                if not fetched.page.records:
                    return
                guard.check(fetched.page)
                yield fetched.page
                if fetched.last:
                    return
                if remaining is not None:
                    remaining -= len(fetched.page)
                if len(fetched.page) >= self._size:  # more may follow: open the window
                    width = self.workers
                fill()
        except Exception:
            failed = True
            raise
        finally:
            # Pages already asked for beyond the end are let finish, so that an export always
            # makes the same requests; after a failure, those not yet sent are dropped.
            pool.shutdown(wait=True, cancel_futures=failed)

    def _page(self, index: int) -> _Fetched:
        """Page ``index`` whole: a short page's rest is asked for until filled or empty."""
        asked = self.paging.slice(index)
        records = self._patiently(asked)
        last = False
        rest = self.paging.rest(asked, len(records))
        while rest is not None:
            more = self._patiently(rest)
            if not more:
                last = True
                break
            records.extend(more)
            rest = self.paging.rest(rest, len(more))
        return _Fetched(Page(number=asked.number, size=asked.size, records=records, frame=self.frame_spec), last)

    def _patiently(self, asked: Slice) -> list[Record]:
        """One slice; a rate limit that outlasted the transport's retries is waited out here."""
        for attempt in range(RATE_LIMIT_PATIENCE + 1):
            try:
                return list(self._fetch(asked))
            except RateLimitError as limited:
                if attempt == RATE_LIMIT_PATIENCE:
                    raise
                wait = limited.retry_after if limited.retry_after is not None else _RATE_LIMIT_FALLBACK_WAIT
                time.sleep(min(wait, 60.0))
        raise AssertionError("unreachable")  # pragma: no cover


class _SamePageGuard:
    """A server that ignores the page asked for would answer page 1 for ever: refuse that."""

    def __init__(self, pager: Pager) -> None:
        self._pager = pager
        self._previous: Record | None = None

    def check(self, page: Page) -> None:
        first = page.records[0]
        if first == self._previous:
            raise APIError(f"the server answered the same page twice; it ignores {self._pager.paging.parameter}",
                           vendor=self._pager.vendor, action=self._pager.label)
        self._previous = first
