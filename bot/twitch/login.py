"""`vtbot auth`: log the accounts the config needs in, and say what each may do."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from bot.config import LoadedConfig

from .auth import SCOPES, AuthError, DeviceCode, Role, TokenStore, default_token_path, device_code_login


def roles_needed(loaded: LoadedConfig) -> list[Role]:
    t = loaded.config.twitch
    return ["broadcaster", "bot"] if t.bot_login and t.bot_login != t.channel else ["broadcaster"]


def scopes_for(role: Role, roles: list[Role]) -> dict[str, str]:
    """What one account is asked for; a broadcaster who is also the bot gets both sets."""
    if role == "broadcaster" and "bot" not in roles:
        return {**SCOPES["bot"], **SCOPES["broadcaster"]}
    return dict(SCOPES[role])


async def run_auth(loaded: LoadedConfig, console: Console, which: str, *, scopes_only: bool = False) -> int:
    t = loaded.config.twitch
    needed = roles_needed(loaded)
    if which not in ("all", "bot", "broadcaster"):
        console.print(f"[red]unknown account {which!r}[/]: use bot, broadcaster or all")
        return 2
    roles: list[Role] = needed if which == "all" else [which]  # type: ignore[list-item]
    for role in roles:
        console.print(f"[bold]{role} account[/] ({_who(loaded, role, needed)}) is asked for:")
        for scope, why in scopes_for(role, needed).items():
            console.print(f"  {scope:28} {why}")
    if scopes_only:
        return 0
    if not t.client_id:
        console.print("[red]twitch.client_id is empty[/]: register an application at "
                      "https://dev.twitch.tv/console/apps (category Chat Bot, client type Public), "
                      "then put its Client ID in your config as twitch.client_id")
        return 2
    store = TokenStore(Path(t.token_file) if t.token_file else default_token_path())
    secret = loaded.secrets.twitch_client_secret
    for role in roles:
        def show(code: DeviceCode, role: Role = role) -> None:
            console.print(f"\n[bold]{role}:[/] open [link={code.verification_uri}]{code.verification_uri}[/link] "
                          f"and enter the code [bold cyan]{code.user_code}[/] "
                          f"(log in as {_who(loaded, role, needed)}; waiting…)")
        try:
            token = await device_code_login(t.client_id, role, list(scopes_for(role, needed)),
                                            client_secret=secret.get_secret_value() if secret else None,
                                            on_code=show, store=store)
        except AuthError as e:
            console.print(f"[red]{role} login failed:[/] {e}")
            return 1
        expected = t.channel if role == "broadcaster" else t.bot_login
        if expected and token.login != expected:
            console.print(f"[yellow]note:[/] you logged in as {token.login}, but the config names "
                          f"{expected!r} for the {role} account")
        console.print(f"[green]✓[/] {role}: {token.login} — saved to {store.path} (mode 0600)")
    return 0


def _who(loaded: LoadedConfig, role: Role, needed: list[Role]) -> str:
    t = loaded.config.twitch
    if role == "broadcaster":
        who = t.channel or "the channel owner"
        return who + (", who is also the bot" if "bot" not in needed else "")
    return t.bot_login or "the bot account"
