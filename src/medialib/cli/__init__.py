"""The `medialib` command. Each subcommand lives in its own module and is imported only when it
runs (click's lazy group), so `medialib worker` never loads the HTTP layer."""

from __future__ import annotations

import importlib
from typing import Any

import click

# command name -> "module:attribute"
COMMANDS = {
    "serve": "medialib.cli.serve:serve",
    "worker": "medialib.cli.worker:worker",
    "migrate": "medialib.cli.admin:migrate_command",
    "copy": "medialib.cli.copy:copy_command",
    "backup": "medialib.cli.backup:backup_command",
    "restore": "medialib.cli.backup:restore_command",
    "doctor": "medialib.cli.doctor:doctor_command",
    "analyze": "medialib.cli.analyze:analyze_command",
    "import": "medialib.cli.importer:import_command",
    "token": "medialib.cli.admin:token",
    "project": "medialib.cli.admin:project",
}


class LazyGroup(click.Group):
    """Lists its commands by name and imports a command's module only to run (or describe) it."""

    def __init__(self, *args: Any, lazy: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.lazy:
            return super().get_command(ctx, cmd_name)
        module, _, attribute = self.lazy[cmd_name].partition(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, lazy=COMMANDS)
@click.version_option(package_name="medialib")
def main() -> None:
    """medialib: a media library service with a bulk import API."""
