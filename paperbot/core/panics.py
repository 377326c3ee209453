"""Native-library panics: survivable faults that Python sees as BaseException, not Exception.

pyo3 raises `pyo3_runtime.PanicException` (a BaseException) when Rust code such as tantivy
panics, e.g. after its index folder was deleted under a running writer. A job must survive it
like any error; a process exit (SystemExit, KeyboardInterrupt) must still end the process.
"""

from __future__ import annotations


def is_native_panic(exc: BaseException) -> bool:
    kind = type(exc)
    return kind.__name__ == "PanicException" and kind.__module__ == "pyo3_runtime"


def recoverable(exc: BaseException) -> bool:
    """Whether a job may catch `exc`, record it and go on."""
    return isinstance(exc, Exception) or is_native_panic(exc)
