"""CLI commands of the web app: ``serve``, and its accounts (``users add|passwd|role|list|disable|revoke|token``)."""

from __future__ import annotations

import click

from feedback_engine.cli.common import CliState, emit, json_option, pass_state, print_table

ROLE_CHOICE = click.Choice(["viewer", "editor", "admin"])


def _password(prompt_twice: bool = True) -> str:
    """The new password from the prompt (hidden), or from FEEDBACK_ENGINE_PASSWORD for scripts."""
    import os

    from_env = os.environ.get("FEEDBACK_ENGINE_PASSWORD")
    if from_env:
        return from_env
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=prompt_twice)
    return value


@click.group("users")
def users() -> None:
    """People who may log in to the web app, and their roles (viewer, editor, admin)."""


@users.command("add")
@click.argument("email")
@click.option("--role", type=ROLE_CHOICE, required=True, help="viewer: read; editor: triage and actions; admin: all.")
@json_option
@pass_state
def add(state: CliState, email: str, role: str, as_json: bool) -> None:
    """Add a user. The password is asked twice (or read from FEEDBACK_ENGINE_PASSWORD)."""
    user = state.engine().accounts.add(email, role, _password())
    emit(user, as_json, lambda u: click.echo(f"Added {u['email']} ({u['role']})."))


@users.command("passwd")
@click.argument("email")
@pass_state
def passwd(state: CliState, email: str) -> None:
    """Set a new password (asked twice, or FEEDBACK_ENGINE_PASSWORD); ends the user's open sessions."""
    ended = state.engine().accounts.set_password(email, _password())
    click.echo(f"Password changed for {email}; {ended} open session(s) ended.")


@users.command("role")
@click.argument("email")
@click.argument("role", type=ROLE_CHOICE)
@pass_state
def role(state: CliState, email: str, role: str) -> None:
    """Change a user's role."""
    user = state.engine().accounts.set_role(email, role)
    click.echo(f"{user['email']} is now {user['role']}.")


@users.command("list")
@json_option
@pass_state
def list_users(state: CliState, as_json: bool) -> None:
    """Every user with their role and whether they are disabled."""
    rows = state.engine().accounts.list()
    emit(rows, as_json, lambda r: print_table(r, ["id", "email", "role", "created_at", "disabled_at"], "No users yet."))


@users.command("disable")
@click.argument("email")
@click.option("--undo", is_flag=True, help="Enable the user again.")
@pass_state
def disable(state: CliState, email: str, undo: bool) -> None:
    """Refuse a user's logins and end their sessions (--undo to let them in again)."""
    user = state.engine().accounts.disable(email, undo=undo)
    click.echo(f"{user['email']} is {'enabled' if user['disabled_at'] is None else 'disabled'}.")


@users.command("revoke")
@click.argument("email")
@pass_state
def revoke(state: CliState, email: str) -> None:
    """End every open web session of a user (they log in again)."""
    click.echo(f"{state.engine().accounts.revoke(email)} open session(s) of {email} ended.")


@users.command("token")
@click.argument("email")
@click.option("--name", default="api", show_default=True, help="What the token is for.")
@pass_state
def token(state: CliState, email: str, name: str) -> None:
    """Create an API token for /api/... (printed once; send it as `Authorization: Bearer TOKEN`)."""
    click.echo(state.engine().accounts.new_api_token(email, name))


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Worker processes (uvicorn's)."
)
@click.option(
    "--secure-cookies",
    is_flag=True,
    envvar="FEEDBACK_ENGINE_SECURE_COOKIES",
    help="Mark session cookies Secure even when the proxy does not send X-Forwarded-Proto (behind HTTPS).",
)
@pass_state
def serve(state: CliState, host: str, port: int, workers: int, secure_cookies: bool) -> None:
    """Serve the web app (triage, backlog, login), unsubscribe links and /healthz.

    Ctrl+C (SIGINT) or SIGTERM stops it: it prints "Stopped serving." and exits with status 0.
    """
    from feedback_engine.web.server import make_server, run_until_stopped, serve_workers

    if workers > 1:
        click.echo(f"Serving on http://{host}:{port} with {workers} workers (Ctrl+C to stop)", err=True)
        serve_workers(state.database(), host=host, port=port, workers=workers, secure_cookies=secure_cookies)
    else:
        server = make_server(state.database(), host=host, port=port, secure_cookies=secure_cookies)
        click.echo(f"Serving on http://{host}:{server.server_address[1]} (Ctrl+C to stop)", err=True)
        run_until_stopped(server)
    click.echo("Stopped serving.", err=True)


def register(main: click.Group) -> None:
    main.add_command(serve)
    main.add_command(users)
