"""A QR code drawn crisply: whole pixels per module, with the standard four-module quiet zone."""

from __future__ import annotations

from ui.qt import QImage, QPainter, QPaintEvent, QRect, QSizePolicy, Qt, QWidget

QUIET_ZONE = 4  # modules of white around the symbol, as the QR standard asks


def qr_image(data: str, quiet_zone: int = QUIET_ZONE) -> QImage:
    """The QR code of `data` as an image of one pixel per module, quiet zone included."""
    import qrcode  # on first use: it pulls in Pillow, which the idle screen does not need at start
    from qrcode.constants import ERROR_CORRECT_M

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=quiet_zone)
    code.add_data(data)
    code.make(fit=True)
    matrix = code.get_matrix()
    size = len(matrix)
    pixels = bytes(0 if dark else 255 for row in matrix for dark in row)
    # copy(): the image must own its pixels, not borrow the bytes object
    return QImage(pixels, size, size, size, QImage.Format.Format_Grayscale8).copy()


class QrCodeView(QWidget):
    """Shows one QR code as large as fits, scaled by a whole number of pixels per module (never blurred)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._data = ""
        self._image: QImage | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    @property
    def data(self) -> str:
        return self._data

    def set_data(self, data: str) -> None:
        if data != self._data:
            self._data = data
            self._image = qr_image(data) if data else None
            self.update()

    def module_px(self) -> int:
        """Pixels per module at the current size (0 when too small to draw)."""
        if self._image is None:
            return 0
        return min(self.width(), self.height()) // self._image.width()

    def paintEvent(self, event: QPaintEvent) -> None:
        if self._image is None:
            return
        side = self._image.width()
        module = max(self.module_px(), 1)
        extent = side * module
        target = QRect((self.width() - extent) // 2, (self.height() - extent) // 2, extent, extent)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.fillRect(target, Qt.GlobalColor.white)
        painter.drawImage(target, self._image)
        painter.end()
