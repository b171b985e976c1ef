"""The one exception tree of erpsync, and the exit code each branch maps to.

    ErpsyncError                      every error erpsync raises on purpose (exit 1)
    ├── ConfigError                   the config file or a CLI argument is wrong (exit 2)
    │   └── InvoiceRefusedError       an NF-e XML that will not be stored, and why (exit 2)
    ├── StoreError                    the local database cannot be opened or migrated (exit 1)
    │   ├── DatabaseMissingError      a read command's database file does not exist (exit 2)
    │   └── DatabaseError             the database itself failed: read-only, damaged (exit 1)
    │       └── DatabaseBusyError     another program held its write lock too long (exit 75)
    ├── LockHeldError                 another erpsync run holds the database (exit 75)
    └── ConnectorError                a connector failed talking to its platform (exit 1)
        ├── RetriableError            transient: connection, timeout, 429, 5xx
        │   └── RateLimitedError      429: carries the server's Retry-After when sent
        ├── FatalError                permanent: other 4xx, a payload we cannot read
        └── AuthError                 credentials rejected; re-authorise the connector

Exit codes without an exception: 3 when every connector ran but some records failed (a push
rejected for some listings, orders newly quarantined, files rejected); 130 on Ctrl-C.

Every message is one line, says what and where (file and key, or connector and endpoint), and
never carries a secret: messages about HTTP exchanges are built from redacted URLs only.
The CLI's error boundary (``erpsync.cli``) is the only place that turns these into a printed
line and an exit code.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_CONFIG = 2
EXIT_PARTIAL = 3  # the run completed, but some records failed or were refused: look at status
EXIT_LOCKED = 75  # EX_TEMPFAIL: cron can tell "busy, try later" from a real failure
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a Ctrl-C


class ErpsyncError(Exception):
    """Base of every error erpsync raises on purpose."""

    exit_code = EXIT_FAILURE


class ConfigError(ErpsyncError):
    """The configuration (file, environment or CLI arguments) is invalid."""

    exit_code = EXIT_CONFIG

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        #: one line per problem, each "file: key.path: what is wrong"
        self.problems = problems or [message]


class StoreError(ErpsyncError):
    """The local store cannot be opened, migrated or written."""


class DatabaseMissingError(StoreError):
    """A read command was pointed at a database file that does not exist: a usage error
    (a mistyped --db), so nothing is created."""

    exit_code = EXIT_CONFIG


class DatabaseError(StoreError):
    """The database failed under a command (read-only file, damaged file): not one connector's
    problem, so the runner stops every connector with it rather than recording it per run."""


class DatabaseBusyError(DatabaseError):
    """Another program held the database's write lock for longer than the busy timeout."""

    exit_code = EXIT_LOCKED


class LockHeldError(ErpsyncError):
    """Another erpsync process is running against the same database."""

    exit_code = EXIT_LOCKED


class ConnectorError(ErpsyncError):
    """A connector failed. ``connector`` names it, ``endpoint`` the redacted request."""

    def __init__(
        self,
        message: str,
        *,
        connector: str | None = None,
        endpoint: str | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.connector = connector
        self.endpoint = endpoint
        self.status_code = status_code

    def __str__(self) -> str:
        where = " ".join(part for part in (self.connector, self.endpoint) if part)
        base = super().__str__()
        return f"{where}: {base}" if where else base


class RetriableError(ConnectorError):
    """A transient failure worth retrying: connection error, timeout, 429 or 5xx."""


class RateLimitedError(RetriableError):
    """The platform answered 429. ``retry_after`` is seconds, when the server sent it."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class FatalError(ConnectorError):
    """A permanent failure: retrying the same request cannot succeed."""


class AuthError(ConnectorError):
    """The platform rejected the credentials; the user must re-authorise the connector."""


class InvoiceRefusedError(ConfigError):
    """An NF-e XML erpsync will not store: not an NF-e, a bad key, not authorised, ..."""
