"""Config blocks of a `type: template` connector: its credentials and options.

TODO: one field per key the seller writes under ``connectors.<name>.credentials`` /
``.options``; secrets are ``SecretStr``; every option has a default that works against the real
API; ``extra="forbid"`` so a misspelt key is an error, not a silent default.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class TemplateCredentials(BaseModel):
    """TODO: what the platform's app registration gives (client id and secret, a token)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    client_id: str = Field(min_length=1, description="TODO: where the seller finds it")
    client_secret: SecretStr
    refresh_token: SecretStr | None = Field(
        default=None, description="Leave out and run `erpsync connectors authorize NAME`"
    )


class TemplateOptions(BaseModel):
    """TODO: per-account knobs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    page_size: int = Field(default=50, ge=1, le=100)
    redirect_uri: str | None = Field(default=None, description="for `connectors authorize`")
