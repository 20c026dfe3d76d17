"""Command-line tools: ``flask seed-demo`` and ``flask create-user``."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import func, select

from shopapp.auth import services as auth
from shopapp.auth.models import User
from shopapp.core.errors import DomainError, Refused
from shopapp.extensions import db


def register_commands(app: Flask) -> None:
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(create_user_command)
    app.cli.add_command(media_gc_command)


@click.command("seed-demo")
def seed_demo_command() -> None:
    """Fill an empty database with a demo catalog; do nothing if it has users."""
    from shopapp.demo import seed_demo

    if db.session.scalar(select(func.count()).select_from(User)):
        click.echo("The database already has data; seed-demo left it alone.")
        return
    owners = seed_demo()
    db.session.commit()
    click.echo("Demo catalog created. Demo shop owners (shown once):")
    for email, password in owners:
        click.echo(f"  {email}  password: {password}")


@click.command("create-user")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True)
@click.password_option()
def create_user_command(email: str, name: str, password: str) -> None:
    """Create a user account."""
    try:
        user = auth.register(email, password, name)
    except DomainError as exc:
        db.session.rollback()
        problems = exc.problems if isinstance(exc, Refused) else [exc]
        lines = [f"{problem.field + ': ' if problem.field else ''}{problem.message}" for problem in problems]
        raise click.ClickException("\n".join(lines)) from exc
    db.session.commit()
    click.echo(f"Created user {user.id} <{user.email}>.")


@click.command("media-gc")
@click.option("--grace-seconds", default=3600, show_default=True, help="Spare files younger than this.")
def media_gc_command(grace_seconds: int) -> None:
    """Remove image files that no product image refers to, and list them."""
    from shopapp.media.services import collect_garbage

    removed = collect_garbage(grace_seconds)
    for name in removed:
        click.echo(f"removed {name}")
    click.echo(f"{len(removed)} orphaned file(s) removed.")
