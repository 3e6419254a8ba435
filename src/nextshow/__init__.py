"""nextshow: a self-hosted television-show recommender."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("nextshow")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"
