"""Keeps obsws-python's own log lines safe and quiet.

The library logs the password at INFO on every connect ("Connecting with parameters:
... password='...'") and a full traceback for every refused connect or failed
request. The OBS client reports all of that itself, once and without secrets, so
this filter masks secrets in the library's records and lets them through only when
the library's logger is set to DEBUG.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from events.sources.common import redact

# obsws-python logs through child loggers named after its classes; a filter on a
# parent logger would not see their records, so each one gets the filter.
LIBRARY_LOGGERS = (
    "obsws_python.baseclient.ObsClient",
    "obsws_python.reqs.ReqClient",
    "obsws_python.events.EventClient",
)


class LibraryLogGuard(logging.Filter):
    """Masks `secrets` in obsws-python's records and demotes them to DEBUG."""

    def __init__(self, secrets: Iterable[str]):
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text = f"{text} ({type(record.exc_info[1]).__name__})"
        record.msg, record.args = redact(text, *self.secrets), None
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)

    def install(self) -> None:
        for name in LIBRARY_LOGGERS:
            logging.getLogger(name).addFilter(self)

    def remove(self) -> None:
        for name in LIBRARY_LOGGERS:
            logging.getLogger(name).removeFilter(self)
