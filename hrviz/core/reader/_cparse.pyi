from collections.abc import Callable, Iterable, Iterator

from hrviz.core.reader.collect import Collector

class Rows(Iterator[str]):
    line: str | None
    lines: int
    def __init__(
        self,
        head: list[str],
        rest: Iterable[str],
        read: Callable[[int], str] | None,
        delimiter: str,
        tcol: int,
        hcol: int,
        time_kind: int,
        scale: float,
        relative: bool,
        start: float,
        interval: float,
        low: float,
        high: float,
        aware: bool,
        field_limit: int,
        block_chars: int,
    ) -> None: ...
    def run(self, acc: Collector, loop: object) -> int: ...
    def __next__(self) -> str: ...
