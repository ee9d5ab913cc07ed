"""The mutualog server: the Flask application, storage and the log sequencer.

Not yet built; the verifiable core comes first.
"""

__all__: list[str] = []
