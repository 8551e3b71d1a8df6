"""What can go wrong talking to OBS, as exceptions a caller can act on.

The three request failures call for different handling: OBS said no (fix the rule,
do not retry), the request never left (safe to retry later), or the link broke while
it was out (OBS may or may not have done it, so retrying could do it twice).
"""

from __future__ import annotations

import socket

from obsws_python.error import OBSSDKError, OBSSDKRequestError, OBSSDKTimeoutError
from websocket import (
    WebSocketConnectionClosedException,
    WebSocketException,
    WebSocketTimeoutException,
)

# obs-websocket's RequestStatus codes worth naming in a log line (protocol.json)
STATUS_NAMES = {
    204: "UnknownRequestType", 205: "GenericError", 207: "NotReady",
    300: "MissingRequestField", 400: "InvalidRequestField", 402: "RequestFieldOutOfRange",
    403: "RequestFieldEmpty", 505: "StudioModeActive", 506: "StudioModeNotActive",
    600: "ResourceNotFound", 601: "ResourceAlreadyExists", 602: "InvalidResourceType",
    604: "InvalidResourceState", 605: "InvalidInputKind", 607: "InvalidFilterKind",
    700: "ResourceCreationFailed", 701: "ResourceActionFailed", 702: "RequestProcessingFailed",
    703: "CannotAct",
}

LIBRARY_PREFIX = "With message: "


class ObsError(Exception):
    """Base of every error the OBS client raises."""


class ObsRequestError(ObsError):
    """OBS answered and refused the request; `code` and `comment` are OBS's own."""

    def __init__(self, request_type: str, code: int, comment: str, subject: str):
        self.request_type = request_type
        self.code = code
        self.comment = comment
        self.subject = subject
        name = STATUS_NAMES.get(code, "error")
        super().__init__(f"{request_type} for {subject} refused by OBS: code {code} ({name}): {comment}")

    @classmethod
    def from_library(cls, e: OBSSDKRequestError, request_type: str, subject: str) -> ObsRequestError:
        """obsws-python keeps only the code; the comment sits in its message text."""
        text = str(e)
        comment = text.split(LIBRARY_PREFIX, 1)[1] if LIBRARY_PREFIX in text else "(no comment)"
        return cls(request_type, int(e.code), comment, subject)


class ObsNotConnectedError(ObsError):
    """The request was not sent: OBS was known to be away. Retrying later is safe."""


class ObsConnectionLostError(ObsError):
    """The connection failed while the request was out: OBS may or may not have acted."""


class NotSent(Exception):
    """Internal: the session was already dead when a request was about to go out."""


def describe(e: BaseException) -> str:
    """A short, human reason for a failed connect or request, for states and logs."""
    if isinstance(e, OBSSDKTimeoutError):
        return "timed out waiting for OBS"
    if isinstance(e, OBSSDKError):
        text = str(e)
        if "no password provided" in text:
            return "authentication failed: OBS asks for a password and none is set (VTBOT_OBS_PASSWORD)"
        if "failed to identify" in text:
            return "authentication failed: OBS refused the password (check VTBOT_OBS_PASSWORD)"
        return f"OBS handshake failed: {text}"
    if isinstance(e, ConnectionRefusedError):
        return "connection refused (is OBS running with its WebSocket server enabled?)"
    if isinstance(e, (TimeoutError, socket.timeout, WebSocketTimeoutException)):
        return "timed out waiting for OBS"
    if isinstance(e, WebSocketConnectionClosedException):
        return "OBS closed the connection"
    if isinstance(e, OSError):
        return e.strerror or type(e).__name__
    if isinstance(e, WebSocketException):
        return f"WebSocket error: {e}"
    return f"{type(e).__name__}: {e}"


def expected(e: BaseException) -> bool:
    """Failures of the network or of OBS, as opposed to bugs worth a traceback."""
    return isinstance(e, (OBSSDKError, OSError, WebSocketException, NotSent))
