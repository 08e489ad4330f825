"""Local stand-ins for the Telegram Bot API and for Xendit, and ``python -m bot sandbox``.

The same stand-ins serve the test suite (``tests/fakes`` re-exports them) and the sandbox, in
which anyone can try the whole bot in a browser without tokens, accounts or a network.
"""
