"""OBS control over obs-websocket v5: scene switches, source and filter toggles."""

from .client import ObsClient, RunResult
from .errors import ObsConnectionLostError, ObsError, ObsNotConnectedError, ObsRequestError

__all__ = ["ObsClient", "ObsConnectionLostError", "ObsError", "ObsNotConnectedError", "ObsRequestError",
           "RunResult"]
