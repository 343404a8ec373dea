"""``benzoredux plugins``: which plugins are active, and what each one adds."""

from __future__ import annotations

import click

__all__ = ["plugins_command"]


@click.command("plugins")
def plugins_command() -> None:
    """List the active plugins, the source formats they read and the register stores.

    Set BENZOREDUX_BLOCK_PLUGINS=name,... to leave plugins out.

    \b
    Examples:
      benzoredux plugins
      BENZOREDUX_BLOCK_PLUGINS=fhir benzoredux plugins
    """
    from benzoredux.hookspecs import HOOKS_VERSION
    from benzoredux.plugins import get_plugins

    active = get_plugins()
    readers = active.readers()
    click.echo(f"Active plugins (hooks version {HOOKS_VERSION}):")
    for info in active.info():
        origin = "internal" if info.internal else f"{info.distribution} {info.version or ''}"
        click.echo(f"  {info.name} ({origin.strip()}; {info.module})")
        for label, names in (
            ("reads", info.readers),
            ("criteria", info.criteria),
            ("house styles", info.house_styles),
            ("register stores", info.stores),
        ):
            if names:
                click.echo(f"    {label}: {', '.join(names)}")
    click.echo("Formats (--format):")
    for name, reader in readers.items():
        click.echo(f"  {name}: {reader.description}")
    click.echo("Register stores (--register NAME://...):")
    click.echo("  sqlite: a SQLite file (built in; a plain path)")
    for name, factory in active.register_stores().items():
        click.echo(f"  {name}: {factory.description}")
