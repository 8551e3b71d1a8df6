"""Twitch logins for vtbot: the Device Code Flow, a private token file, and refresh.

The device flow fits a streamer's PC: no web server and no redirect URL, the user only
types a short code at twitch.tv/activate. Two accounts log in, each with its own role:
the bot account that chats, and the broadcaster who lets it in and owns the channel's
events.

Tokens are secrets: they live in a 0600 file outside the repository, travel as
``Secret`` (masked in repr/str/format) and never enter a log line or an error message.
Errors say what to do next.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import inspect
import json
import logging
import os
import secrets
import stat
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import aiohttp
from twitchio import HTTPException, Scopes
from twitchio.authentication import OAuth
from twitchio.http import Route
from twitchio.utils import MISSING

from bot.tokens import tokens_match

logger = logging.getLogger(__name__)

Role = Literal["bot", "broadcaster"]
ROLES: tuple[Role, ...] = ("bot", "broadcaster")

# What each account is asked for, and why. Kept minimal: a scope joins only with the
# feature that needs it.
SCOPES: dict[Role, dict[str, str]] = {
    "bot": {
        "user:read:chat": "read the channel's chat over EventSub (channel.chat.message)",
        "user:write:chat": "send replies with Helix Send Chat Message",
        "user:bot": "chat through the app token, which shows the Chat Bot badge",
        "moderator:read:followers": "receive follows (channel.follow v2) once the bot is a mod",
    },
    "broadcaster": {
        "channel:bot": "let the bot account chat in this channel without being a moderator",
        "bits:read": "receive cheers (channel.cheer)",
        "channel:read:subscriptions": "receive subs, gifted subs and resub messages",
        "channel:read:redemptions": "receive channel-point redemptions",
        "moderator:read:followers": "receive follows with the broadcaster as moderator",
        "channel:read:hype_train": "receive hype train begin and end",
    },
}
# Not asked for: moderator:manage:banned_users. vtbot's moderation keeps unwanted chat
# out of the avatar's answers; it never bans or times anyone out. Ask for it together
# with a feature that does.

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
ACTIVATE_URL = "https://www.twitch.tv/activate"
CONSOLE_URL = "https://dev.twitch.tv/console/apps"
MASK = "********"


# --------------------------------------------------------------------------- errors


class AuthError(Exception):
    """A Twitch login problem; the message says what to do and never holds a token."""


class DeviceLoginDenied(AuthError):
    """The code was declined at twitch.tv/activate, or is no longer valid."""


class DeviceLoginExpired(AuthError):
    """Nobody approved the code before it expired."""


class MissingScopes(AuthError):
    """The token Twitch issued lacks permissions vtbot asked for."""

    def __init__(self, message: str, missing: Iterable[str]) -> None:
        super().__init__(message)
        self.missing: tuple[str, ...] = tuple(missing)


class TokenRefreshFailed(AuthError):
    """A saved login can no longer be refreshed: log in again."""


class TokenFileError(AuthError):
    """The token file cannot be read or written."""


# --------------------------------------------------------------------------- secrets


class Secret:
    """A string that hides itself from repr, str, format and logs; ``reveal()`` uses it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"a Secret holds a str, not {type(value).__name__}")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return tokens_match(self._value, other._value)

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _expiry(expires_in: int | float) -> dt.datetime:
    return _now() + dt.timedelta(seconds=int(expires_in))


@dataclass(frozen=True)
class StoredToken:
    """One account's login as kept in the token file."""

    role: Role
    user_id: str
    login: str
    access_token: Secret
    refresh_token: Secret
    scopes: tuple[str, ...]
    obtained_at: dt.datetime
    expires_at: dt.datetime | None = None  # as Twitch's validate endpoint last said

    def missing_scopes(self, wanted: Iterable[str]) -> list[str]:
        have = set(self.scopes)
        return [s for s in wanted if s not in have]

    def to_json(self) -> dict[str, Any]:
        """The file form; it reveals the tokens, so only TokenStore calls it."""
        return {
            "user_id": self.user_id,
            "login": self.login,
            "access_token": self.access_token.reveal(),
            "refresh_token": self.refresh_token.reveal(),
            "scopes": list(self.scopes),
            "obtained_at": self.obtained_at.isoformat(),
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
        }

    @classmethod
    def from_json(cls, role: Role, data: Mapping[str, Any]) -> StoredToken:
        try:
            return cls(
                role=role,
                user_id=str(data["user_id"]),
                login=str(data["login"]),
                access_token=Secret(str(data["access_token"])),
                refresh_token=Secret(str(data["refresh_token"])),
                scopes=tuple(str(s) for s in data["scopes"]),
                obtained_at=dt.datetime.fromisoformat(str(data["obtained_at"])),
                expires_at=dt.datetime.fromisoformat(str(data["expires_at"]))
                if data.get("expires_at") else None,
            )
        except (KeyError, TypeError, ValueError) as e:
            bad = e.args[0] if isinstance(e, KeyError) else "a field"
            problem = f"its {role} entry lacks or garbles {bad}"
        raise TokenFileError(f"The token file is damaged ({problem}); log in again for the "
                             f"{role} account.")


# --------------------------------------------------------------------------- token file


def default_token_path(env: Mapping[str, str] | None = None) -> Path:
    """$XDG_CONFIG_HOME/vtbot/twitch-tokens.json, else ~/.config/vtbot/twitch-tokens.json."""
    env = os.environ if env is None else env
    xdg = env.get("XDG_CONFIG_HOME", "")
    if xdg and os.path.isabs(xdg):
        base = Path(xdg)
    else:  # the XDG spec says to ignore a relative value
        home = env.get("HOME")
        base = (Path(home) if home else Path.home()) / ".config"
    return base / "vtbot" / "twitch-tokens.json"


def _inside_git_tree(path: Path) -> bool:
    return any((p / ".git").exists() for p in path.resolve().parents)


@dataclass
class TokenStore:
    """Per-role tokens in one JSON file, written atomically with mode 0600."""

    path: Path = field(default_factory=default_token_path)

    def __post_init__(self) -> None:
        self.path = Path(self.path).expanduser()

    def load(self) -> dict[Role, StoredToken]:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
        except FileNotFoundError:
            return {}
        except OSError as e:
            problem = e.strerror or type(e).__name__
        else:
            with os.fdopen(fd, "r", encoding="utf-8") as fh:
                self._check_mode(fh.fileno())
                text = fh.read()
            return self._parse(text)
        raise TokenFileError(f"Cannot read the token file {self.path} ({problem}); fix its "
                             "permissions or remove it and log in again.")

    def get(self, role: Role) -> StoredToken | None:
        return self.load().get(role)

    def save(self, token: StoredToken) -> None:
        tokens = self.load()
        tokens[token.role] = token
        self._write(tokens)
        logger.info("Saved the Twitch %s login for %s to %s", token.role, token.login, self.path)

    def remove(self, role: Role) -> bool:
        tokens = self.load()
        if tokens.pop(role, None) is None:
            return False
        self._write(tokens)
        return True

    def _check_mode(self, fd: int) -> None:
        mode = stat.S_IMODE(os.fstat(fd).st_mode)
        if mode & 0o077:
            os.fchmod(fd, 0o600)
            logger.warning("The token file %s could be read by other users (mode %03o); it is "
                           "now 600. If others use this machine, log in again to replace the "
                           "tokens.", self.path, mode)

    def _parse(self, text: str) -> dict[Role, StoredToken]:
        try:
            data = json.loads(text)
            entries = data["tokens"]
            if not isinstance(entries, dict):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            problem = "not vtbot's token JSON"
        else:
            out: dict[Role, StoredToken] = {}
            for role, entry in entries.items():
                if role not in ROLES:
                    logger.warning("Ignoring unknown role %r in %s", role, self.path)
                    continue
                out[role] = StoredToken.from_json(role, entry)
            return out
        raise TokenFileError(f"The token file {self.path} is damaged ({problem}); remove it "
                             "and log in again.")

    def _write(self, tokens: Mapping[Role, StoredToken]) -> None:
        folder = self.path.parent
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if _inside_git_tree(self.path):
            logger.warning("The token file %s is inside a git work tree; keep it out of "
                           "version control (the default lives in ~/.config/vtbot).", self.path)
        body = json.dumps({"version": 1,
                           "tokens": {role: t.to_json() for role, t in tokens.items()}},
                          indent=2) + "\n"
        tmp = folder / f".{self.path.name}.{secrets.token_hex(6)}.tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW
        try:
            fd = os.open(tmp, flags, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                os.fchmod(fh.fileno(), 0o600)  # exact mode whatever the umask
                fh.write(body)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except OSError as e:
            with contextlib.suppress(OSError):
                tmp.unlink()
            problem = e.strerror or type(e).__name__
        else:
            _fsync_dir(folder)
            return
        raise TokenFileError(f"Cannot write the token file {self.path} ({problem}); check "
                             "that its folder is writable.")


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable; some file systems cannot, which is fine."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# --------------------------------------------------------------------------- Twitch calls


@dataclass(frozen=True)
class _Failure:
    """A failed call, reduced to what may be shown: the status and Twitch's message."""

    status: int  # 0: no HTTP answer (network)
    message: str

    def says(self) -> str:
        if self.status == 0:
            return f"network error: {self.message}"
        return f"HTTP {self.status}: {self.message or 'no message'}"


async def _attempt(call: Awaitable[Any]) -> tuple[Any, _Failure | None]:
    """Run a twitchio call; turn its failure into a _Failure.

    twitchio's HTTPException text holds the full URL, whose query carries refresh
    tokens, device codes and the client secret: only the status and Twitch's own
    message survive, and errors are raised after the except block so that no
    exception context (with that text) is chained to ours.
    """
    try:
        return await call, None
    except HTTPException as e:
        extra = e.extra if isinstance(e.extra, dict) else {}
        message = str(extra.get("message", ""))[:200]
        return None, _Failure(e.status, message)
    except (aiohttp.ClientError, TimeoutError) as e:
        return None, _Failure(0, type(e).__name__)


class _OAuth(OAuth):
    """twitchio's OAuth client plus a single device-token poll.

    twitchio's own ``device_code_authorization`` loops forever on a pending code and
    raises ValueError on Twitch's ``slow_down``; vtbot polls itself to honour the
    interval, slow down and give up when the code expires.
    """

    async def poll_device_token(self, device_code: str, scopes: Scopes) -> dict[str, Any]:
        params = {"client_id": self.client_id, "scopes": scopes.urlsafe(),
                  "device_code": device_code, "grant_type": DEVICE_GRANT}
        route = Route("POST", "/oauth2/token", use_id=True, params=params,
                      headers=dict(self.CONTENT_TYPE_HEADER))
        return await self.request_json(route)


def _oauth(client_id: str, client_secret: str | None,
           session: aiohttp.ClientSession | None) -> _OAuth:
    return _OAuth(client_id=client_id, client_secret=client_secret,
                  session=session if session is not None else MISSING)


def _known_scopes(role: Role, scopes: Iterable[str] | None) -> list[str]:
    wanted = list(dict.fromkeys(SCOPES[role] if scopes is None else scopes))
    unknown = [s for s in wanted if Scopes([s]).selected != [s]]
    if unknown:
        raise ValueError(f"unknown Twitch scope(s): {', '.join(unknown)}")
    return wanted


@dataclass(frozen=True)
class DeviceCode:
    """What the user needs to approve a login: the code and where to type it."""

    role: Role
    user_code: str
    verification_uri: str
    expires_in: float
    interval: float
    device_code: Secret

    def instructions(self) -> str:
        minutes = max(1, round(self.expires_in / 60))
        return (f"To log in the {self.role} account, open {self.verification_uri} and enter "
                f"the code {self.user_code} (valid for {minutes} min).")


OnCode = Callable[[DeviceCode], Awaitable[None] | None]


async def device_code_login(
    client_id: str,
    role: Role,
    scopes: Iterable[str] | None = None,
    *,
    client_secret: str | None = None,
    on_code: OnCode,
    store: TokenStore | None = None,
    timeout: float | None = None,
    slow_down_step: float = 5.0,
    session: aiohttp.ClientSession | None = None,
) -> StoredToken:
    """Log ``role`` in with the Device Code Flow and return (and store) its token.

    ``on_code`` shows the user code; polling then honours Twitch's interval (plus
    ``slow_down_step`` on each slow_down) until approval, denial or expiry (or
    ``timeout``, if shorter). The new token is validated to learn the account and to
    check that every requested scope was granted. ``client_secret`` is accepted for
    symmetry with ``refresh``; the device calls themselves never send it.
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, not {role!r}")
    wanted = _known_scopes(role, scopes)
    scope_set = Scopes(wanted)
    oauth = _oauth(client_id, client_secret, session)
    try:
        start, failure = await _attempt(oauth.device_code_flow(scopes=scope_set))
        if failure is not None:
            raise AuthError(
                f"Twitch would not start a device login for the {role} account "
                f"({failure.says()}). Check the Client ID at {CONSOLE_URL} and that the "
                "application allows the device flow.")
        code = DeviceCode(role=role, user_code=str(start["user_code"]),
                          verification_uri=str(start.get("verification_uri") or ACTIVATE_URL),
                          expires_in=float(start["expires_in"]),
                          interval=float(start.get("interval") or 5),
                          device_code=Secret(str(start["device_code"])))
        shown = on_code(code)
        if inspect.isawaitable(shown):
            await shown
        granted = await _poll_for_token(oauth, code, scope_set, timeout, slow_down_step)
        validated, failure = await _attempt(oauth.validate_token(granted["access_token"]))
    finally:
        await oauth.close()
    if failure is not None or not validated.user_id:
        reason = failure.says() if failure else "it is not a user token"
        raise AuthError(f"Twitch issued a {role} token that does not validate ({reason}); "
                        "log in again.")

    token = StoredToken(role=role, user_id=str(validated.user_id), login=str(validated.login),
                        access_token=Secret(granted["access_token"]),
                        refresh_token=Secret(granted["refresh_token"]),
                        scopes=tuple(sorted(validated.scopes)), obtained_at=_now(),
                        expires_at=_expiry(validated.expires_in))
    missing = token.missing_scopes(wanted)
    if missing:
        raise MissingScopes(
            f"The {role} login for {token.login} lacks {', '.join(missing)}. Log in again and "
            "approve every permission Twitch lists.", missing)
    if store is not None:
        store.save(token)
    logger.info("Twitch %s login approved for %s (id %s), scopes: %s", role, token.login,
                token.user_id, " ".join(token.scopes))
    return token


async def _poll_for_token(oauth: _OAuth, code: DeviceCode, scopes: Scopes,
                          timeout: float | None, slow_down_step: float) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    lifetime = code.expires_in if timeout is None else min(code.expires_in, timeout)
    deadline = loop.time() + lifetime
    interval = max(code.interval, 0.0)
    role = code.role
    while True:
        wait = min(interval, deadline - loop.time())
        if wait < 0 or (wait == 0 and interval > 0):
            break
        await asyncio.sleep(wait)
        if loop.time() >= deadline:
            break
        resp, failure = await _attempt(
            oauth.poll_device_token(code.device_code.reveal(), scopes))
        if failure is None:
            return resp
        said = failure.message.lower()
        if failure.status == 400 and said == "authorization_pending":
            continue
        if failure.status == 400 and said == "slow_down":
            interval += slow_down_step
            logger.info("Twitch asked to poll more slowly; now every %.1f s", interval)
            continue
        if failure.status == 400 and said in ("access_denied", "invalid device code"):
            raise DeviceLoginDenied(
                f"The {role} login was declined, or its code {code.user_code} is no longer "
                f"valid (Twitch said: {failure.message}). Log in again and approve the new "
                f"code at {ACTIVATE_URL}.")
        if failure.status == 400 and said == "expired_token":
            break
        if failure.status == 0 or failure.status >= 500 or failure.status == 429:
            logger.warning("Waiting for the %s login: Twitch did not answer (%s); still "
                           "trying", role, failure.says())
            continue
        raise AuthError(f"Twitch refused the {role} login ({failure.says()}). Check the "
                        f"Client ID at {CONSOLE_URL} and log in again.")
    minutes = max(1, round(code.expires_in / 60))
    raise DeviceLoginExpired(
        f"The {role} login code {code.user_code} expired before it was approved. Log in "
        f"again and enter the new code at {ACTIVATE_URL} within {minutes} min.")


async def refresh(
    client_id: str,
    token: StoredToken,
    *,
    client_secret: str | None = None,
    store: TokenStore | None = None,
    session: aiohttp.ClientSession | None = None,
) -> StoredToken:
    """Trade the refresh token for a new pair, validate it and store it.

    Pass ``client_secret`` when the Twitch application is Confidential; a Public
    client refreshes without it and gets single-use refresh tokens, so the new pair
    must be saved at once, which ``store`` does.
    """
    oauth = _oauth(client_id, client_secret, session)
    try:
        resp, failure = await _attempt(oauth.refresh_token(token.refresh_token.reveal()))
        validated = None
        if failure is None:
            validated, failure = await _attempt(oauth.validate_token(resp.access_token))
    finally:
        await oauth.close()
    if failure is not None:
        if failure.status in (400, 401, 403):
            raise TokenRefreshFailed(
                f"The saved {token.role} login for {token.login} can no longer be refreshed "
                f"({failure.says()}): it was revoked, expired or already used. Log in again "
                f"for the {token.role} account.")
        raise AuthError(f"Twitch could not refresh the {token.role} token ({failure.says()}); "
                        "try again in a moment.")
    assert validated is not None
    if validated.user_id != token.user_id:
        raise AuthError(f"The refreshed {token.role} token belongs to another account; log in "
                        f"again for the {token.role} account.")
    new = replace(token, login=str(validated.login or token.login),
                  access_token=Secret(resp.access_token),
                  refresh_token=Secret(resp.refresh_token),
                  scopes=tuple(sorted(validated.scopes)), obtained_at=_now(),
                  expires_at=_expiry(validated.expires_in))
    if store is not None:
        store.save(new)
    logger.info("Refreshed the Twitch %s token for %s", token.role, token.login)
    return new


def refresh_store_entry(token: StoredToken, access: str, refresh_token: str) -> StoredToken:
    """``token`` with the pair twitchio refreshed on its own (event_token_refreshed)."""
    return replace(token, access_token=Secret(access), refresh_token=Secret(refresh_token),
                   obtained_at=_now(), expires_at=None)


async def ensure_fresh(
    client_id: str,
    token: StoredToken,
    *,
    client_secret: str | None = None,
    store: TokenStore | None = None,
    min_lifetime: int = 3600,
    session: aiohttp.ClientSession | None = None,
) -> StoredToken:
    """Validate a stored token (Twitch asks for this at start-up); refresh it if needed.

    A token that is invalid, or that expires within ``min_lifetime`` seconds, is
    refreshed; otherwise the validated scopes and lifetime are returned.
    """
    oauth = _oauth(client_id, client_secret, session)
    try:
        validated, failure = await _attempt(oauth.validate_token(token.access_token.reveal()))
    finally:
        await oauth.close()
    if failure is not None and failure.status != 401:
        raise AuthError(f"Could not validate the {token.role} token ({failure.says()}); try "
                        "again in a moment.")
    if failure is not None or validated.expires_in <= min_lifetime:
        return await refresh(client_id, token, client_secret=client_secret, store=store,
                             session=session)
    return replace(token, scopes=tuple(sorted(validated.scopes)),
                   expires_at=_expiry(validated.expires_in))
