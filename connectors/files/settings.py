"""Options of the files connector: the folders it reads orders from and writes stock to."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator


class FilesOptions(BaseModel):
    """``connectors.<name>.options`` for ``type: files``.

    Relative paths in a config file resolve against the config file's folder (the loader
    anchors them); in settings built in code, against ``FilesConnector.base_dir`` (the
    current working directory unless the caller sets it). The outbox must exist.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    inbox: Path = Field(description="folder of incoming order files (.json, .csv)")
    rejected: Path | None = Field(
        default=None, description="where unreadable files go, with a reason (<inbox>/rejected)"
    )
    processed: Path | None = Field(
        default=None,
        description="where imported files go; when unset they stay in the inbox and are re-read",
    )
    outbox: Path | None = Field(
        default=None, description="folder for stock CSVs (one per push); required to push stock"
    )
    listings_file: Path | None = Field(
        default=None,
        description="CSV item_id,variation_id,sku,title (default: a listing per SKU in orders)",
    )
    platform: str = Field(default="files", min_length=1, description="label stored on orders")

    @property
    def rejected_folder(self) -> Path:
        return self.rejected if self.rejected is not None else self.inbox / "rejected"

    @model_validator(mode="after")
    def _folders_apart_from_inbox(self) -> FilesOptions:
        # A rejected/processed/outbox folder equal to the inbox would feed its files (or our
        # own stock CSVs) back in as orders on the next run.
        inbox = os.path.normpath(self.inbox)
        for key in ("rejected", "processed", "outbox"):
            folder: Path | None = getattr(self, key)
            if folder is not None and os.path.normpath(folder) == inbox:
                raise ValueError(f"{key} must be a different folder from inbox")
        return self
