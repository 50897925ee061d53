"""The errors of ANS-104 parsing and verification; each one names the rule it enforces."""


class Ans104Error(Exception):
    """Base of every ANS-104 parse or verify error.

    ``rule`` is a short stable name of the rule that broke (for logs, metrics and
    events); the message says what was seen.
    """

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"{rule}: {message}")
        self.rule = rule


class DataItemParseError(Ans104Error):
    """The bytes are not a well-formed data item (layout, limits, truncation)."""


class DataItemTooLarge(DataItemParseError):
    """The item is longer than the configured maximum item size."""

    def __init__(self, max_item_size: int) -> None:
        super().__init__("max-item-size", f"data item exceeds {max_item_size} bytes")
        self.max_item_size = max_item_size


class InvalidSignature(Ans104Error):
    """The item is well formed but its signature does not verify against its owner."""


class BundleError(Ans104Error):
    """The bytes are not a well-formed ANS-104 bundle."""
