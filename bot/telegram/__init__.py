"""The Telegram side: handlers (thin) and the sender the notification worker uses."""
