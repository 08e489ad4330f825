"""paybot: a Telegram bot that creates Xendit payment links for small merchants."""
