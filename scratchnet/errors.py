"""The project's own error types: every bad input ends in one of these, with a message a user can act on."""

from __future__ import annotations


class ScratchNetError(Exception):
    """Base class for every error ScratchNet reports to a user."""


class ConfigError(ScratchNetError, ValueError):
    """An impossible or unknown setting (negative width, unknown optimiser, ...).

    Made by ``ConfigError.about(setting, rule)`` when one setting is at fault, it carries ``setting`` (the
    ``TrainConfig`` field) and ``rule`` (what is wrong with it: "must be above 0; got -1"), so that an interface
    can name the setting its own way (``--lr``, "Learning rate") without parsing the message."""

    setting: str | None = None
    rule: str | None = None

    @classmethod
    def about(cls, setting: str, rule: str) -> ConfigError:
        """The error "<setting> <rule>", e.g. ``ConfigError.about("lr", "must be above 0; got -1")``."""
        error = cls(f"{setting} {rule}")
        error.setting, error.rule = setting, rule
        return error


class DataError(ScratchNetError):
    """A dataset file that is missing, truncated, corrupt or inconsistent."""


class DownloadError(DataError):
    """The dataset could not be downloaded from any mirror."""


class DownloadCancelled(DownloadError):
    """The user cancelled a download."""


class ModelFileError(ScratchNetError):
    """A model file that cannot be read or does not describe a valid network."""


class RunStoreError(ScratchNetError):
    """The run store cannot be opened or written, or holds no run of a given id."""
