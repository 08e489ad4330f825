"""QR codes for customers at the counter, drawn locally (no third-party QR service)."""

from __future__ import annotations

import io


def qr_png(data: str, *, box_size: int = 10, border: int = 4) -> bytes:
    """A PNG of ``data`` as a QR code, large enough to scan from a phone screen."""
    # Imported here: the imaging library is only needed when a merchant asks for a QR code,
    # and the idle process stays smaller without it.
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=border)
    code.add_data(data)
    code.make(fit=True)
    image = code.make_image(fill_color="black", back_color="white")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
