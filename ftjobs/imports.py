"""Keeping imports light: ftjobs answers from the shell, where start-up time is felt."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def without_modules(*names: str) -> Iterator[None]:
    """Import something as if these (optional) modules were not installed.

    sqlite_utils imports numpy and pandas whenever they are installed, only to map their
    types, which ftjobs never stores; numpy comes with uniplot (the metrics chart) and costs
    about 0.3 s, on every command that opens the store. Modules already imported stay as
    they are, and afterwards the names import normally again.
    """
    hidden = [name for name in names if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # import raises ImportError
    try:
        yield
    finally:
        for name in hidden:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]
