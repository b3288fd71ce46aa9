"""The suite's error hierarchy: every error says what failed, what was checked, what to do."""

from __future__ import annotations

#: Exit codes of every command: the gate passed, it found a regression, the input was bad.
EXIT_PASS, EXIT_REGRESSION, EXIT_BAD_INPUT = 0, 1, 2


class PgperfError(Exception):
    """Base class of every error pgperf raises on purpose; the CLI turns it into exit code 2."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\nhint: {self.hint}"
        return self.message


class ConfigError(PgperfError):
    """A setting from the CLI, the ini file or the environment is invalid."""


class BackendUnavailable(PgperfError):
    """A provisioning backend cannot give a server on this machine."""


class ServerStartError(PgperfError):
    """A server was started but did not become ready before its deadline."""


class UnsafeTarget(PgperfError):
    """The suite was pointed at a database it did not create; nothing was touched."""


class SqlFileError(PgperfError):
    """A statement of one of the suite's .sql files failed."""


class SeedError(PgperfError):
    """Seeding a template database failed."""


class ResultsFileError(PgperfError):
    """A results or baseline file is missing, unreadable, corrupt or incompatible."""
