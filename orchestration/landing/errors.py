"""The error that refuses a file as a whole."""


class LandingError(ValueError):
    """A file refused as a whole (e.g. a required column is missing); nothing of it is landed."""
