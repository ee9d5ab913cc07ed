"""The mutualog offline client: verifies what a log serves, on the user's machine."""

__all__: list[str] = []
