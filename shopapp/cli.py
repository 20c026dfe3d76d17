"""Command-line tools: ``flask seed-demo``, ``flask create-user``, ``flask deactivate-user``, ``flask media-gc`` and
``flask export-products``
and ``flask import-products``.

Every command of the app, Flask-Migrate's ``flask db …`` included, ends a database that cannot be
reached in one line that says what to do (``explain_database_error``), not a traceback. Long commands
show a progress bar with counts on a terminal and nothing when their output goes to a pipe or a file.
"""

from __future__ import annotations

import copy
import sqlite3
import sys
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

import click
import psycopg
from flask import Flask, current_app
from sqlalchemy import exc as sa_exc
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from shopapp.auth import services as auth
from shopapp.auth.models import User
from shopapp.core.db import STATUSES
from shopapp.core.errors import DomainError, Refused
from shopapp.extensions import db
from shopapp.jobs import worker_command

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar


def register_commands(app: Flask) -> None:
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(create_user_command)
    app.cli.add_command(deactivate_user_command)
    app.cli.add_command(media_gc_command)
    app.cli.add_command(export_products_command)
    app.cli.add_command(import_products_command)
    app.cli.add_command(worker_command)
    # After the extensions: Flask-Migrate has added its ``db`` group by now.
    for name, command in list(app.cli.commands.items()):
        app.cli.commands[name] = explaining_database_errors(command)


def explaining_database_errors(command: click.Command) -> click.Command:
    """A copy of ``command`` (the original may be shared by every app, like ``db``) whose unreachable
    database ends in ``Error: <what to do>`` and exit status 1."""
    explained = copy.copy(command)

    def invoke(ctx: click.Context) -> Any:
        try:
            return command.invoke(ctx)
        except (sa_exc.OperationalError, psycopg.OperationalError, sqlite3.OperationalError) as error:
            message = explain_database_error(error, current_app.config["SQLALCHEMY_DATABASE_URI"])
            if message is None:
                raise
            raise click.ClickException(message) from None

    explained.invoke = invoke  # type: ignore[method-assign]
    return explained


def explain_database_error(error: BaseException, url: str) -> str | None:
    """One line on why the database at ``url`` could not be reached and what to do; None for other errors.

    libpq's messages are matched in English; one it words otherwise still comes as "Cannot connect …".
    """
    reason = str(getattr(error, "orig", None) or error)
    where = make_url(url)
    if where.get_backend_name() == "sqlite":
        if "unable to open database file" not in reason:
            return None
        return (
            f"Cannot open the SQLite database {where.database} (DATABASE_URL): make sure its directory exists "
            "and may be written to."
        )
    host, port = where.host or "localhost", where.port or 5432
    address = f"{host}:{port}"
    if f'database "{where.database}" does not exist' in reason:
        user = f" -U {where.username}" if where.username else ""
        return (
            f'The database "{where.database}" does not exist on {address} (DATABASE_URL). Create it with: '
            f"createdb -h {host} -p {port}{user} {where.database}"
        )
    if "Connection refused" in reason:
        return (
            f"Nothing accepts connections at {address} (DATABASE_URL): start PostgreSQL there, "
            "or point DATABASE_URL at the server."
        )
    if reason.startswith("connection failed:"):
        detail = " ".join(reason.removeprefix("connection failed:").split())
        return f"Cannot connect to PostgreSQL at {address} (DATABASE_URL): {detail}"
    return None


def progress_bar(label: str, length: int, *, every: int = 1) -> ProgressBar[int]:
    """A bar with counts on stderr while stderr is a terminal; nothing at all when it is a pipe or a file.

    ``every``: redraw after that many steps at most (a million rows need not draw a million times).
    """
    return click.progressbar(
        length=length,
        label=label,
        file=sys.stderr,
        show_pos=True,
        update_min_steps=every,
        hidden=not sys.stderr.isatty(),
    )


@click.command("seed-demo")
def seed_demo_command() -> None:
    """Fill an empty database with a demo catalog; do nothing if it has users."""
    from shopapp.demo import PRODUCT_COUNT, seed_demo

    if db.session.scalar(select(func.count()).select_from(User)):
        click.echo("The database already has data; seed-demo left it alone.")
        return
    with progress_bar("Demo products", PRODUCT_COUNT) as bar:
        owners = seed_demo(on_product=lambda: bar.update(1))
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


@click.command("deactivate-user")
@click.argument("email")
@click.option("--reactivate", is_flag=True, help="Let the account sign in again.")
def deactivate_user_command(email: str, reactivate: bool) -> None:
    """Stop an account from signing in and end its sessions and tokens (or, with --reactivate, undo that)."""
    try:
        user = auth.set_active(email, active=reactivate)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from exc
    db.session.commit()
    click.echo(f"{'Reactivated' if reactivate else 'Deactivated'} user {user.id} <{user.email}>.")


@click.command("media-gc")
@click.option("--grace-seconds", default=3600, show_default=True, help="Spare files younger than this.")
def media_gc_command(grace_seconds: int) -> None:
    """Remove image files that no product image refers to, and list them."""
    from shopapp.media.services import collect_garbage

    removed = collect_garbage(grace_seconds)
    for name in removed:
        click.echo(f"removed {name}")
    click.echo(f"{len(removed)} orphaned file(s) removed.")


@click.command("export-products")
@click.option("--shop", "shop_id", type=click.IntRange(1), help="This shop's products (as its owner).")
@click.option("--owner", "owner_email", help="The products of all this owner's shops (with --shop: must own it).")
@click.option(
    "--status", type=click.Choice(STATUSES), default="active", show_default=True, help="As the dashboard's filter."
)
@click.option("--q", default=None, help="Part of the name, or the SKU, as the dashboard's search.")
@click.option("--output", type=click.File("w", encoding="utf-8", lazy=True), default="-", help="Default: stdout.")
def export_products_command(
    shop_id: int | None, owner_email: str | None, status: str, q: str | None, output: TextIO
) -> None:
    """Write products as CSV (sku, name, description, price, stock, category, is_active), the format the import
    reads: one shop's (--shop ID) or all of an owner's shops' (--owner EMAIL)."""
    from shopapp.products.export import export_products_csv

    if shop_id is None and owner_email is None:
        raise click.UsageError("Give --shop ID, --owner EMAIL, or both.")
    if owner_email is not None:
        owner = auth.find_by_email(owner_email)
        if owner is None:
            raise click.ClickException("No account has this email.")
    else:
        owner = _shop_owner(shop_id)
    try:
        chunks = export_products_csv(owner, shop_id=shop_id, status=status, q=q)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    for chunk in chunks:
        output.write(chunk)


def _shop_owner(shop_id: int | None) -> User:
    from shopapp.shops.models import Shop

    shop = db.session.get(Shop, shop_id) if shop_id is not None else None
    if shop is None or shop.deleted_at is not None:
        raise click.ClickException("No such shop.")
    return shop.owner


@click.command("import-products")
@click.argument("file", type=click.File("rb"))
@click.option("--shop", "shop_id", type=click.IntRange(1), required=True, help="Into this shop (as its owner).")
@click.option("--dry-run", is_flag=True, help="Only say what the import would do.")
def import_products_command(file: BinaryIO, shop_id: int, dry_run: bool) -> None:
    """Create and update a shop's products from a CSV file in the export's columns (a row with a SKU of the
    shop updates that product); all or nothing: exit status 1, and nothing written, when any row is invalid."""
    from shopapp.products import imports

    owner = _shop_owner(shop_id)
    with ExitStack() as bars:
        shown: dict[str, ProgressBar[int]] = {}

        def progress(label: str) -> imports.Progress:
            def report(done: int, total: int) -> None:
                if label not in shown:
                    shown[label] = bars.enter_context(progress_bar(label, total, every=imports.BATCH))
                shown[label].update(done - shown[label].pos)

            return report

        try:
            batch = imports.start_import(owner, shop_id, imports.read_limited(file))
            report = imports.dry_run(owner, batch.id, progress("Checking rows"))
            if not (dry_run or report.invalid):
                imports.apply(owner, batch.id, progress("Writing products"))
        except DomainError as exc:
            db.session.rollback()
            raise click.ClickException(exc.message) from exc
    click.echo(report.summary)
    for problem in report.problems:
        click.echo(str(problem))
    if dry_run or report.invalid:
        db.session.rollback()
        if report.invalid:
            sys.exit(1)
        return
    db.session.commit()
