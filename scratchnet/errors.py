"""The project's own error types: every bad input ends in one of these, with a message a user can act on."""


class ScratchNetError(Exception):
    """Base class for every error ScratchNet reports to a user."""


class ConfigError(ScratchNetError, ValueError):
    """An impossible or unknown setting (negative width, unknown optimiser, ...)."""


class DataError(ScratchNetError):
    """A dataset file that is missing, truncated, corrupt or inconsistent."""


class DownloadError(DataError):
    """The dataset could not be downloaded from any mirror."""


class DownloadCancelled(DownloadError):
    """The user cancelled a download."""


class ModelFileError(ScratchNetError):
    """A model file that cannot be read or does not describe a valid network."""
